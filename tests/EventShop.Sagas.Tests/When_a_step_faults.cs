using EventShop.Contracts.Accounts;
using EventShop.Contracts.Points;
using MassTransit;

namespace EventShop.Sagas.Tests;

/// <summary>
/// A step's command that fails in its service after every retry ends in that service's _error queue, and MassTransit
/// publishes a <see cref="Fault{T}"/>. The saga compensates at once instead of waiting for the step timeout, and treats the
/// outcome as uncertain (like a timeout): it undoes the faulted step too, which voids it should it be retried later.
/// Here a stand-in consumer throws, so the fault is MassTransit's own, not one the test wrote.
/// </summary>
public sealed class When_a_step_faults
{
    [Fact]
    public async Task When_the_debit_faults_Should_refund_to_void_it_and_name_the_error()
    {
        await WithSagaAsync(bus => bus.AddConsumer<Failing<DebitCustomer>>(), async saga =>
        {
            await saga.SubmitAsync();

            var state = await saga.InStateAsync(m => m.Refunding);
            Assert.Equal("Customer debit failed", state.FailureReason);
            Assert.True(await saga.PublishedAsync<RefundCustomer>());
            Assert.Equal(0, saga.PublishedCount<CreditMerchant>());
        });
    }

    [Fact]
    public async Task When_the_credit_faults_Should_reverse_it_then_refund()
    {
        await WithSagaAsync(bus => bus.AddConsumer<Failing<CreditMerchant>>(), async saga =>
        {
            await saga.SubmitAsync();
            await saga.InStateAsync(m => m.Debiting);
            await saga.PublishAsync(new CustomerDebited(saga.OrderId, "alice", 25.50m));

            var state = await saga.InStateAsync(m => m.ReversingCredit);
            Assert.Equal("Merchant credit failed", state.FailureReason);
            Assert.True(await saga.PublishedAsync<ReverseMerchantCredit>());

            await saga.PublishAsync(new MerchantCreditReversed(saga.OrderId, "shop", 0m));
            await saga.InStateAsync(m => m.Refunding);
            Assert.True(await saga.PublishedAsync<RefundCustomer>());
        });
    }

    [Fact]
    public async Task When_the_accrual_faults_Should_reverse_the_points_first()
    {
        await WithSagaAsync(bus => bus.AddConsumer<Failing<AccruePoints>>(), async saga =>
        {
            await saga.SubmitAsync();
            await saga.InStateAsync(m => m.Debiting);
            await saga.PublishAsync(new CustomerDebited(saga.OrderId, "alice", 25.50m));
            await saga.InStateAsync(m => m.Crediting);
            await saga.PublishAsync(new MerchantCredited(saga.OrderId, "shop", 25.50m));

            var state = await saga.InStateAsync(m => m.ReversingPoints);
            Assert.Equal("Points accrual failed", state.FailureReason);
            Assert.True(await saga.PublishedAsync<ReversePointsAccrual>());
        });
    }

    [Fact]
    public async Task When_the_error_message_is_long_Should_show_the_customer_the_step_and_not_the_exception()
    {
        await WithSagaAsync(bus => bus.AddConsumer<FailingVerbosely>(), async saga =>
        {
            await saga.SubmitAsync();

            var state = await saga.InStateAsync(m => m.Refunding);
            Assert.Equal("Customer debit failed", state.FailureReason);
            Assert.Equal("StepFailed", state.FailureCode);
        });
    }

    static async Task WithSagaAsync(Action<IBusRegistrationConfigurator> services, Func<OrderStateMachineHarness, Task> test)
    {
        var saga = new OrderStateMachineHarness(services);
        await saga.InitializeAsync();
        try
        {
            await test(saga);
        }
        finally
        {
            await saga.DisposeAsync();
        }
    }

    sealed class Failing<T> : IConsumer<T> where T : class
    {
        public Task Consume(ConsumeContext<T> context) => throw new InvalidOperationException("ledger unavailable");
    }

    sealed class FailingVerbosely : IConsumer<DebitCustomer>
    {
        public Task Consume(ConsumeContext<DebitCustomer> context) => throw new InvalidOperationException(new string('x', 5000));
    }
}
