using EventShop.Messaging.Hosting;
using EventShop.Points.Apis;
using EventShop.Points.Extensions;
using EventShop.Points.Infrastructure;
using EventShop.ServiceDefaults;

ServiceRuntime.Configure(); // before anything opens a socket
var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddPointsServices();

var app = builder.Build();

app.UseServiceDefaults();
app.MapDefaultEndpoints();
app.MapParkedMessages<PointsDbContext>();
app.MapOpenApi();
app.MapPointsApi();
app.MapInvariantsApi();
app.MapFaultsApi("points"); // only with Faults:Enabled (ADR 0014)

// 'migrate' applies the migrations as the database's owner and exits; the service itself then runs with its runtime role only (ADR 0020).
if (DatabaseExtensions.IsMigrateCommand(args))
{
    await app.MigrateDatabaseAsync<PointsDbContext>();
    return;
}
await app.PrepareDatabaseAsync<PointsDbContext>();
await app.RunAsync();
