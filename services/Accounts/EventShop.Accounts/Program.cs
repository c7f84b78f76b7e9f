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

// 'migrate' applies the migrations as the database's owner and exits; the service itself then runs with its runtime role only (ADR 0020).
if (DatabaseExtensions.IsMigrateCommand(args))
{
    await app.MigrateDatabaseAsync<AccountsDbContext>();
    return;
}
await app.PrepareDatabaseAsync<AccountsDbContext>();
await app.RunAsync();
