using EventShop.Dashboard.Apis;
using EventShop.Dashboard.Extensions;
using EventShop.ServiceDefaults;

ServiceRuntime.Configure(); // before anything opens a socket
var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDashboardServices();

var app = builder.Build();

app.UseServiceDefaults();
app.MapDefaultEndpoints();
app.MapDashboardPage();
app.MapFailuresApi();
app.MapLiveApi();

await app.RunAsync();
