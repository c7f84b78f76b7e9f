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

await app.MigrateDatabaseAsync<OrdersDbContext>();
await app.RunAsync();
