using EventShop.Gateway.Apis;
using EventShop.Gateway.Extensions;
using EventShop.ServiceDefaults;

ServiceRuntime.Configure(); // before anything opens a socket
var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGatewayServices();

var app = builder.Build();

app.UseGatewayPipeline();
app.MapDefaultEndpoints();
app.MapDevTokenApi();
app.MapCustomerSummaryApi();
app.MapInvariantsApi();
app.MapFaultsApi();
app.MapApiReference();
app.MapReverseProxy();

await app.RunAsync();
