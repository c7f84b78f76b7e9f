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

await app.MigrateDatabaseAsync<SagasDbContext>();
await app.RunAsync();
