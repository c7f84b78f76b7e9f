using EventShop.Messaging.Hosting;
using EventShop.Sagas.Apis;
using EventShop.Sagas.Extensions;
using EventShop.Sagas.Infrastructure;
using EventShop.ServiceDefaults;

ServiceRuntime.Configure(); // before anything opens a socket
var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddSagasServices();

var app = builder.Build();

app.UseServiceDefaults();
app.MapDefaultEndpoints();
app.MapParkedMessages<SagasDbContext>();
app.MapOpenApi();
app.MapSagasApi();
app.MapInvariantsApi();
app.MapFaultsApi("sagas"); // only with Faults:Enabled (ADR 0014)
app.MapSagaActionsApi();
app.MapAuditApi();

// 'migrate' applies the migrations as the database's owner and exits; the service itself then runs with its runtime role only (ADR 0020).
if (DatabaseExtensions.IsMigrateCommand(args))
{
    await app.MigrateDatabaseAsync<SagasDbContext>();
    return;
}
await app.PrepareDatabaseAsync<SagasDbContext>();
await app.RunAsync();
