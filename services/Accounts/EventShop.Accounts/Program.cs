using EventShop.Accounts.Apis;
using EventShop.Accounts.Extensions;
using EventShop.Accounts.Infrastructure;
using EventShop.Messaging.Hosting;
using EventShop.ServiceDefaults;

ServiceRuntime.Configure(); // before anything opens a socket
var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddAccountsServices();

var app = builder.Build();

app.UseServiceDefaults();
app.MapDefaultEndpoints();
app.MapParkedMessages<AccountsDbContext>();
app.MapOpenApi();
app.MapAccountsApi();
app.MapInvariantsApi();
app.MapFaultsApi("accounts"); // only with Faults:Enabled (ADR 0014)

await app.MigrateDatabaseAsync<AccountsDbContext>();
await app.RunAsync();
