using EventShop.Dashboard.Extensions;
using EventShop.ServiceDefaults;

ServiceRuntime.Configure(); // before anything opens a socket
var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();

var app = builder.Build();

app.UseServiceDefaults();
app.MapDefaultEndpoints();
app.MapDashboardPage();

await app.RunAsync();
