using EventShop.Accounts.Consumers;
using EventShop.Accounts.Infrastructure;
using EventShop.Messaging.Hosting;
using EventShop.Messaging;
using EventShop.ServiceDefaults;

namespace EventShop.Accounts.Extensions;

public static class AccountsServiceExtensions
{
    public static IHostApplicationBuilder AddAccountsServices(this IHostApplicationBuilder builder)
    {
        builder.UseStrictJson();
        builder.AddEventShopAuthentication();
        builder.Services.AddOpenApi();
        builder.AddServiceDatabase<AccountsDbContext>("Accounts");
        builder.Services.AddTransactionalMessaging<AccountsDbContext>(builder.Configuration);
        builder.Services.AddScoped<AccountBook>();
        builder.Services.AddScoped<Compensation>();
        // Operator adjustments are recorded in the saga host's audit trail before they are made.
        builder.Services.AddHttpClient<AuditTrail>(http =>
            http.BaseAddress = new Uri(builder.Configuration["Services:sagas"] ?? "http://localhost:5104"));
        builder.AddEventShopBus(bus =>
        {
            bus.AddConsumer<DebitCustomerConsumer>();
            bus.AddConsumer<CreditMerchantConsumer>();
            bus.AddConsumer<RefundCustomerConsumer>();
            bus.AddConsumer<ReverseMerchantCreditConsumer>();
        });
        return builder;
    }
}
