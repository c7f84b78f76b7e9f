using EventShop.Dashboard.Extensions;
using EventShop.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapDashboardPage();

await app.RunAsync();
