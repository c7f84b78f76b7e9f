using EventShop.Messaging.Hosting;
using EventShop.Orders.Apis;
using EventShop.Orders.Extensions;
using EventShop.Orders.Infrastructure;
using EventShop.ServiceDefaults;

ServiceRuntime.Configure(); // before anything opens a socket
var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddOrdersServices();

var app = builder.Build();

app.UseServiceDefaults();
app.MapDefaultEndpoints();
app.MapParkedMessages<OrdersDbContext>();
app.MapOpenApi();
app.MapOrdersApi();
app.MapInvariantsApi();
app.MapFaultsApi("orders"); // only with Faults:Enabled (ADR 0014)
app.MapPendingOrdersApi();

// 'migrate' applies the migrations as the database's owner and exits; the service itself then runs with its runtime role only (ADR 0020).
if (DatabaseExtensions.IsMigrateCommand(args))
{
    await app.MigrateDatabaseAsync<OrdersDbContext>();
    return;
}
await app.PrepareDatabaseAsync<OrdersDbContext>();
await app.RunAsync();
