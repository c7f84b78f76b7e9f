using EventShop.Contracts.Accounts;
using EventShop.Contracts.Orders;
using EventShop.Contracts.Points;
using EventShop.Sagas.OrderPlacement;

namespace EventShop.Sagas.Tests;

/// <summary>The sweeper raises <see cref="OrderStepTimedOut"/> with the step's token; here the test raises it directly.</summary>
public sealed class When_a_step_times_out : IAsyncLifetime
{
    readonly OrderStateMachineHarness _saga = new();

    public Task InitializeAsync() => _saga.InitializeAsync();

    public Task DisposeAsync() => _saga.DisposeAsync();

    Task TimeOutCurrentStepAsync(OrderState saga) =>
        _saga.PublishAsync(new OrderStepTimedOut(_saga.OrderId, saga.StepToken, saga.CurrentState));

    [Fact]
    public async Task Should_give_every_waiting_step_a_timeout_for_the_database_to_turn_into_a_deadline()
    {
        await _saga.SubmitAsync();
        var saga = await _saga.InStateAsync(m => m.Debiting);

        // The deadline itself is the database's to compute on its clock (ADR 0008): the saga host's clock never sets it.
        Assert.Equal(TimeSpan.FromSeconds(30), saga.StepTimeout);
        Assert.Null(saga.StepDeadline);
        Assert.Equal(1, saga.StepAttempts);
    }

    [Fact]
    public async Task When_the_debit_times_out_Should_refund_to_void_a_late_debit()
    {
        await _saga.SubmitAsync();
        await TimeOutCurrentStepAsync(await _saga.InStateAsync(m => m.Debiting));

        var saga = await _saga.InStateAsync(m => m.Refunding);
        Assert.Equal("Customer debit timed out", saga.FailureReason);
        Assert.True(await _saga.PublishedAsync<RefundCustomer>());

        await _saga.PublishAsync(new CustomerRefunded(_saga.OrderId, "alice", 0m));
        await _saga.InStateAsync(m => m.Cancelled);
        Assert.True(await _saga.PublishedAsync<OrderCancelled>());
    }

    [Fact]
    public async Task When_points_accrual_times_out_Should_reverse_points_then_credit_then_refund()
    {
        await _saga.SubmitAsync();
        // The reply only after the saga exists: one published first finds no saga and is dropped (a CI run saw it).
        await _saga.InStateAsync(m => m.Debiting);
        await _saga.PublishAsync(new CustomerDebited(_saga.OrderId, "alice", 25.50m));
        await _saga.InStateAsync(m => m.Crediting);
        await _saga.PublishAsync(new MerchantCredited(_saga.OrderId, "shop", 25.50m));
        await TimeOutCurrentStepAsync(await _saga.InStateAsync(m => m.Accruing));

        await _saga.InStateAsync(m => m.ReversingPoints);
        Assert.True(await _saga.PublishedAsync<ReversePointsAccrual>());
        await _saga.PublishAsync(new PointsAccrualReversed(_saga.OrderId, "alice", 0));
        await _saga.InStateAsync(m => m.ReversingCredit);
        await _saga.PublishAsync(new MerchantCreditReversed(_saga.OrderId, "shop", 25.50m));
        await _saga.InStateAsync(m => m.Refunding);
        await _saga.PublishAsync(new CustomerRefunded(_saga.OrderId, "alice", 25.50m));

        var saga = await _saga.InStateAsync(m => m.Cancelled);
        Assert.Equal("Points accrual timed out", saga.FailureReason);
    }

    [Fact]
    public async Task When_the_credit_times_out_Should_reverse_it_sending_the_reversal_again_until_it_is_answered()
    {
        await _saga.SubmitAsync();
        // The reply only after the saga exists: one published first finds no saga and is dropped (a CI run saw it).
        await _saga.InStateAsync(m => m.Debiting);
        await _saga.PublishAsync(new CustomerDebited(_saga.OrderId, "alice", 25.50m));
        await TimeOutCurrentStepAsync(await _saga.InStateAsync(m => m.Crediting));

        var reversing = await _saga.InStateAsync(m => m.ReversingCredit);
        Assert.Equal("Merchant credit timed out", reversing.FailureReason);
        await WaitUntilAsync(() => _saga.PublishedCount<ReverseMerchantCredit>() == 1);

        await TimeOutCurrentStepAsync(reversing);
        await WaitUntilAsync(() => _saga.PublishedCount<ReverseMerchantCredit>() == 2);
        Assert.Equal(2, (await _saga.InStateAsync(m => m.ReversingCredit)).StepAttempts);

        await _saga.PublishAsync(new MerchantCreditReversed(_saga.OrderId, "shop", 25.50m));
        await _saga.InStateAsync(m => m.Refunding);
        Assert.True(await _saga.PublishedAsync<RefundCustomer>());
    }

    [Fact]
    public async Task When_the_points_reversal_times_out_Should_send_it_again()
    {
        await _saga.SubmitAsync();
        // The reply only after the saga exists: one published first finds no saga and is dropped (a CI run saw it).
        await _saga.InStateAsync(m => m.Debiting);
        await _saga.PublishAsync(new CustomerDebited(_saga.OrderId, "alice", 25.50m));
        await _saga.InStateAsync(m => m.Crediting);
        await _saga.PublishAsync(new MerchantCredited(_saga.OrderId, "shop", 25.50m));
        await TimeOutCurrentStepAsync(await _saga.InStateAsync(m => m.Accruing));
        var reversing = await _saga.InStateAsync(m => m.ReversingPoints);
        await WaitUntilAsync(() => _saga.PublishedCount<ReversePointsAccrual>() == 1);

        await TimeOutCurrentStepAsync(reversing);

        await WaitUntilAsync(() => _saga.PublishedCount<ReversePointsAccrual>() == 2);
        var saga = await _saga.InStateAsync(m => m.ReversingPoints);
        Assert.Equal(2, saga.StepAttempts);
        Assert.Equal("Points accrual timed out", saga.FailureReason);
    }

    [Fact]
    public async Task When_a_compensation_times_out_Should_send_it_again()
    {
        await _saga.SubmitAsync();
        await TimeOutCurrentStepAsync(await _saga.InStateAsync(m => m.Debiting));
        var refunding = await _saga.InStateAsync(m => m.Refunding);
        var firstToken = refunding.StepToken;

        await TimeOutCurrentStepAsync(refunding);

        Assert.True(await _saga.Harness.Published.Any<RefundCustomer>(x => x.Context.Message.OrderId == _saga.OrderId) );
        await WaitUntilAsync(() => _saga.PublishedCount<RefundCustomer>() == 2);
        var saga = await _saga.InStateAsync(m => m.Refunding);
        Assert.NotEqual(firstToken, saga.StepToken);
    }

    [Fact]
    public async Task When_the_timeout_is_for_an_earlier_step_Should_ignore_it()
    {
        await _saga.SubmitAsync();
        var debiting = await _saga.InStateAsync(m => m.Debiting);
        var staleTimeout = new OrderStepTimedOut(_saga.OrderId, debiting.StepToken, debiting.CurrentState);
        await _saga.PublishAsync(new CustomerDebited(_saga.OrderId, "alice", 25.50m));
        await _saga.InStateAsync(m => m.Crediting);

        await _saga.PublishAsync(staleTimeout);
        await _saga.SettleAsync();

        var saga = await _saga.InStateAsync(m => m.Crediting);
        Assert.Null(saga.FailureReason);
        Assert.Equal(0, _saga.PublishedCount<RefundCustomer>());
    }

    [Fact]
    public async Task When_a_compensation_never_gets_a_reply_Should_end_in_CompensationFailed_after_its_attempts()
    {
        await _saga.SubmitAsync();
        await TimeOutCurrentStepAsync(await _saga.InStateAsync(m => m.Debiting));
        for (var attempt = 1; attempt <= OrderStateMachineHarness.MaxCompensationAttempts; attempt++)
        {
            var refunding = await _saga.InStateAsync(m => m.Refunding);
            await WaitUntilAsync(() => _saga.PublishedCount<RefundCustomer>() == attempt);
            Assert.Equal(attempt, refunding.StepAttempts);
            await TimeOutCurrentStepAsync(refunding);
        }

        var saga = await _saga.InStateAsync(m => m.CompensationFailed);
        Assert.Equal("Customer debit timed out", saga.FailureReason);
        Assert.Equal($"Customer refund got no reply after {OrderStateMachineHarness.MaxCompensationAttempts} attempts; Customer debit timed out",
            saga.CompensationFailure);
        Assert.Null(saga.StepTimeout);
        await _saga.SettleAsync();
        Assert.Equal(OrderStateMachineHarness.MaxCompensationAttempts, _saga.PublishedCount<RefundCustomer>());
        Assert.Equal(0, _saga.PublishedCount<OrderCancelled>());
    }

    [Fact]
    public async Task When_a_compensation_gets_its_reply_on_the_last_attempt_Should_still_cancel()
    {
        await _saga.SubmitAsync();
        await TimeOutCurrentStepAsync(await _saga.InStateAsync(m => m.Debiting));
        for (var attempt = 1; attempt < OrderStateMachineHarness.MaxCompensationAttempts; attempt++)
        {
            var refunding = await _saga.InStateAsync(m => m.Refunding);
            await WaitUntilAsync(() => _saga.PublishedCount<RefundCustomer>() == attempt);
            await TimeOutCurrentStepAsync(refunding);
        }

        await WaitUntilAsync(() => _saga.PublishedCount<RefundCustomer>() == OrderStateMachineHarness.MaxCompensationAttempts);
        await _saga.PublishAsync(new CustomerRefunded(_saga.OrderId, "alice", 0m));
        var saga = await _saga.InStateAsync(m => m.Cancelled);
        Assert.Null(saga.CompensationFailure);
    }

    static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 100 && !condition(); i++)
            await Task.Delay(50);
        Assert.True(condition());
    }
}
