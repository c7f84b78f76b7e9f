using EventShop.Gateway.Apis;
using EventShop.Gateway.Extensions;
using EventShop.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGatewayServices();

var app = builder.Build();

app.UseAuthentication();
app.UseAuthorization();
app.MapDefaultEndpoints();
app.MapDevTokenApi();
app.MapReverseProxy();

await app.RunAsync();
