using EventShop.Contracts.Accounts;
using EventShop.Contracts.Orders;
using EventShop.Contracts.Points;
using EventShop.Sagas.OrderPlacement;
using MassTransit;

namespace EventShop.Sagas.Tests;

/// <summary>
/// An operator's retry-step and cancel, in every state: the saga API raises <see cref="RetrySagaStep"/> and <see cref="CancelSaga"/>
/// through the outbox; here the test raises them directly.
/// </summary>
public sealed class When_an_operator_acts : IAsyncLifetime
{
    readonly OrderStateMachineHarness _saga = new();

    public Task InitializeAsync() => _saga.InitializeAsync();

    public Task DisposeAsync() => _saga.DisposeAsync();

    Guid OrderId => _saga.OrderId;

    async Task<OrderState> DebitingAsync()
    {
        await _saga.SubmitAsync();
        return await _saga.InStateAsync(m => m.Debiting);
    }

    async Task<OrderState> CreditingAsync()
    {
        await DebitingAsync();
        await _saga.PublishAsync(new CustomerDebited(OrderId, "alice", 25.50m));
        return await _saga.InStateAsync(m => m.Crediting);
    }

    async Task<OrderState> AccruingAsync()
    {
        await CreditingAsync();
        await _saga.PublishAsync(new MerchantCredited(OrderId, "shop", 25.50m));
        return await _saga.InStateAsync(m => m.Accruing);
    }

    async Task<OrderState> ReversingPointsAsync()
    {
        var accruing = await AccruingAsync();
        await _saga.PublishAsync(new OrderStepTimedOut(OrderId, accruing.StepToken, accruing.CurrentState));
        return await _saga.InStateAsync(m => m.ReversingPoints);
    }

    async Task<OrderState> CompensationFailedAsync()
    {
        await DebitingAsync();
        var debiting = await _saga.InStateAsync(m => m.Debiting);
        await _saga.PublishAsync(new OrderStepTimedOut(OrderId, debiting.StepToken, debiting.CurrentState));
        for (var attempt = 1; attempt <= OrderStateMachineHarness.MaxCompensationAttempts; attempt++)
        {
            var refunding = await _saga.InStateAsync(m => m.Refunding);
            await OrderStateMachineHarness.WaitUntilAsync(() => _saga.PublishedCount<RefundCustomer>() == attempt, $"refund {attempt} sent");
            await _saga.PublishAsync(new OrderStepTimedOut(OrderId, refunding.StepToken, refunding.CurrentState));
        }
        return await _saga.InStateAsync(m => m.CompensationFailed);
    }

    [Fact]
    public async Task Retry_in_Debiting_Should_send_the_debit_again_with_a_new_step_token()
    {
        var token = (await DebitingAsync()).StepToken;

        await _saga.PublishAsync(new RetrySagaStep(OrderId, null));

        await OrderStateMachineHarness.WaitUntilAsync(() => _saga.PublishedCount<DebitCustomer>() == 2, "the debit sent twice");
        var saga = await _saga.InStateAsync(m => m.Debiting);
        Assert.NotEqual(token, saga.StepToken);
        Assert.Equal(2, saga.StepAttempts);
    }

    [Fact]
    public async Task Retry_in_Crediting_Should_send_the_credit_again()
    {
        await CreditingAsync();
        await _saga.PublishAsync(new RetrySagaStep(OrderId, null));
        await OrderStateMachineHarness.WaitUntilAsync(() => _saga.PublishedCount<CreditMerchant>() == 2, "the credit sent twice");
        Assert.Equal(2, (await _saga.InStateAsync(m => m.Crediting)).StepAttempts);
    }

    [Fact]
    public async Task Retry_in_Accruing_Should_send_the_accrual_again_and_the_reply_completes_the_order()
    {
        await AccruingAsync();
        await _saga.PublishAsync(new RetrySagaStep(OrderId, null));
        await OrderStateMachineHarness.WaitUntilAsync(() => _saga.PublishedCount<AccruePoints>() == 2, "the accrual sent twice");

        await _saga.PublishAsync(new PointsAccrued(OrderId, "alice", 25));
        await _saga.InStateAsync(m => m.Completed);
        Assert.True(await _saga.PublishedAsync<OrderCompleted>());
    }

    [Fact]
    public async Task Retry_in_ReversingPoints_Should_send_the_compensation_again()
    {
        await ReversingPointsAsync();
        await _saga.PublishAsync(new RetrySagaStep(OrderId, null));
        await OrderStateMachineHarness.WaitUntilAsync(() => _saga.PublishedCount<ReversePointsAccrual>() == 2, "the reversal sent twice");
        await _saga.InStateAsync(m => m.ReversingPoints);
    }

    [Fact]
    public async Task Retry_in_ReversingCredit_and_Refunding_Should_send_each_compensation_again()
    {
        await ReversingPointsAsync();
        await _saga.PublishAsync(new PointsAccrualReversed(OrderId, "alice", 25));
        await _saga.InStateAsync(m => m.ReversingCredit);
        await _saga.PublishAsync(new RetrySagaStep(OrderId, null));
        await OrderStateMachineHarness.WaitUntilAsync(() => _saga.PublishedCount<ReverseMerchantCredit>() == 2, "the credit reversal sent twice");

        await _saga.PublishAsync(new MerchantCreditReversed(OrderId, "shop", 25.50m));
        await _saga.InStateAsync(m => m.Refunding);
        await _saga.PublishAsync(new RetrySagaStep(OrderId, null));
        await OrderStateMachineHarness.WaitUntilAsync(() => _saga.PublishedCount<RefundCustomer>() == 2, "the refund sent twice");
    }

    [Fact]
    public async Task Retry_in_CompensationFailed_Should_resume_the_compensation_that_gave_up_with_a_fresh_budget()
    {
        var failed = await CompensationFailedAsync();
        Assert.Equal("Refunding", failed.FailedCompensation);

        await _saga.PublishAsync(new RetrySagaStep(OrderId, "Refunding"));

        var saga = await _saga.InStateAsync(m => m.Refunding);
        await OrderStateMachineHarness.WaitUntilAsync(
            () => _saga.PublishedCount<RefundCustomer>() == OrderStateMachineHarness.MaxCompensationAttempts + 1, "the refund sent once more");
        Assert.Equal(1, saga.StepAttempts);
        Assert.Null(saga.CompensationFailure);
        Assert.Equal(TimeSpan.FromSeconds(30), saga.StepTimeout);

        await _saga.PublishAsync(new CustomerRefunded(OrderId, "alice", 0m));
        await _saga.InStateAsync(m => m.Cancelled);
        Assert.True(await _saga.PublishedAsync<OrderCancelled>());
    }

    [Fact]
    public async Task Retry_in_CompensationFailed_after_the_points_reversal_gave_up_Should_resume_reversing_points()
    {
        await ReversingPointsAsync();
        await TimeOutEveryAttemptAsync<ReversePointsAccrual>(m => m.ReversingPoints);
        var failed = await _saga.InStateAsync(m => m.CompensationFailed);
        Assert.Equal("ReversingPoints", failed.FailedCompensation);

        await _saga.PublishAsync(new RetrySagaStep(OrderId, "ReversingPoints"));

        await _saga.InStateAsync(m => m.ReversingPoints);
        await OrderStateMachineHarness.WaitUntilAsync(
            () => _saga.PublishedCount<ReversePointsAccrual>() == OrderStateMachineHarness.MaxCompensationAttempts + 1, "the reversal sent once more");
    }

    [Fact]
    public async Task Retry_in_CompensationFailed_after_the_credit_reversal_gave_up_Should_resume_reversing_the_credit()
    {
        await ReversingPointsAsync();
        await _saga.PublishAsync(new PointsAccrualReversed(OrderId, "alice", 25));
        await _saga.InStateAsync(m => m.ReversingCredit);
        await TimeOutEveryAttemptAsync<ReverseMerchantCredit>(m => m.ReversingCredit);
        var failed = await _saga.InStateAsync(m => m.CompensationFailed);
        Assert.Equal("ReversingCredit", failed.FailedCompensation);

        await _saga.PublishAsync(new RetrySagaStep(OrderId, "ReversingCredit"));

        await _saga.InStateAsync(m => m.ReversingCredit);
        await OrderStateMachineHarness.WaitUntilAsync(
            () => _saga.PublishedCount<ReverseMerchantCredit>() == OrderStateMachineHarness.MaxCompensationAttempts + 1, "the credit reversal sent once more");
    }

    // The attempts of a compensation run out when no reply came in time, not when the compensation failed: its service may
    // answer later (restarted under a backlog, its command redelivered from an error queue). That reply finishes the saga's
    // work as it would have in the compensating state, and nothing is left for an operator.

    [Fact]
    public async Task When_the_refund_that_gave_up_is_answered_late_Should_cancel_without_an_operator()
    {
        var failed = await CompensationFailedAsync();
        Assert.Equal("Refunding", failed.FailedCompensation);

        await _saga.PublishAsync(new CustomerRefunded(OrderId, "alice", 0m));

        var saga = await _saga.InStateAsync(m => m.Cancelled);
        Assert.Null(saga.CompensationFailure);
        Assert.Null(saga.FailedCompensation);
        Assert.True(await _saga.Harness.Published.Any<OrderCancelled>(x =>
            x.Context.Message.OrderId == OrderId && x.Context.Message.Reason == "Customer debit timed out"));
        Assert.Equal(OrderStateMachineHarness.MaxCompensationAttempts, _saga.PublishedCount<RefundCustomer>());
    }

    [Fact]
    public async Task When_the_points_reversal_that_gave_up_is_answered_late_Should_go_on_to_reverse_the_credit()
    {
        await ReversingPointsAsync();
        await TimeOutEveryAttemptAsync<ReversePointsAccrual>(m => m.ReversingPoints);
        await _saga.InStateAsync(m => m.CompensationFailed);

        await _saga.PublishAsync(new PointsAccrualReversed(OrderId, "alice", 25));

        var saga = await _saga.InStateAsync(m => m.ReversingCredit);
        Assert.Null(saga.CompensationFailure);
        Assert.Equal(1, saga.StepAttempts);
        await OrderStateMachineHarness.WaitUntilAsync(() => _saga.PublishedCount<ReverseMerchantCredit>() == 1, "the credit reversal sent");
    }

    [Fact]
    public async Task When_the_credit_reversal_that_gave_up_is_answered_late_Should_go_on_to_refund()
    {
        await ReversingPointsAsync();
        await _saga.PublishAsync(new PointsAccrualReversed(OrderId, "alice", 25));
        await TimeOutEveryAttemptAsync<ReverseMerchantCredit>(m => m.ReversingCredit);
        await _saga.InStateAsync(m => m.CompensationFailed);

        await _saga.PublishAsync(new MerchantCreditReversed(OrderId, "shop", 25.50m));

        await _saga.InStateAsync(m => m.Refunding);
        await OrderStateMachineHarness.WaitUntilAsync(() => _saga.PublishedCount<RefundCustomer>() == 1, "the refund sent");
    }

    [Fact]
    public async Task When_a_saga_that_gave_up_on_the_refund_gets_a_reply_to_an_earlier_compensation_Should_still_wait_for_an_operator()
    {
        await CompensationFailedAsync();

        // A duplicate of an earlier step's undo says nothing about the refund the saga gave up on.
        await _saga.PublishAsync(new MerchantCreditReversed(OrderId, "shop", 25.50m));
        await _saga.PublishAsync(new PointsAccrualReversed(OrderId, "alice", 25));
        await _saga.SettleAsync();

        var saga = await _saga.InStateAsync(m => m.CompensationFailed);
        Assert.Equal("Refunding", saga.FailedCompensation);
        Assert.NotNull(saga.CompensationFailure);
        Assert.Equal(0, _saga.PublishedCount<OrderCancelled>());
    }

    /// <summary>Lets every attempt of the compensation in progress time out, until the saga gives up.</summary>
    async Task TimeOutEveryAttemptAsync<TCommand>(Func<OrderStateMachine, State> compensating) where TCommand : class
    {
        for (var attempt = 1; attempt <= OrderStateMachineHarness.MaxCompensationAttempts; attempt++)
        {
            var saga = await _saga.InStateAsync(compensating);
            await OrderStateMachineHarness.WaitUntilAsync(() => _saga.PublishedCount<TCommand>() == attempt, $"{typeof(TCommand).Name} {attempt} sent");
            await _saga.PublishAsync(new OrderStepTimedOut(OrderId, saga.StepToken, saga.CurrentState));
        }
    }

    [Fact]
    public async Task Cancel_in_Debiting_Should_refund_to_void_the_debit_and_end_CancelledByOperator()
    {
        await DebitingAsync();
        await _saga.PublishAsync(new CancelSaga(OrderId));

        var saga = await _saga.InStateAsync(m => m.Refunding);
        Assert.Equal(FailureCodes.CancelledByOperator, saga.FailureCode);
        Assert.True(await _saga.PublishedAsync<RefundCustomer>());

        await _saga.PublishAsync(new CustomerRefunded(OrderId, "alice", 0m));
        await _saga.InStateAsync(m => m.Cancelled);
        Assert.True(await _saga.Harness.Published.Any<OrderCancelled>(x =>
            x.Context.Message.OrderId == OrderId && x.Context.Message.Reason == OrderStateMachine.CancelledByOperatorReason));
    }

    [Fact]
    public async Task Cancel_in_Crediting_Should_reverse_the_credit_then_refund()
    {
        await CreditingAsync();
        await _saga.PublishAsync(new CancelSaga(OrderId));

        Assert.Equal(FailureCodes.CancelledByOperator, (await _saga.InStateAsync(m => m.ReversingCredit)).FailureCode);
        Assert.True(await _saga.PublishedAsync<ReverseMerchantCredit>());
        await _saga.PublishAsync(new MerchantCreditReversed(OrderId, "shop", 25.50m));
        await _saga.InStateAsync(m => m.Refunding);
        await _saga.PublishAsync(new CustomerRefunded(OrderId, "alice", 25.50m));
        await _saga.InStateAsync(m => m.Cancelled);
    }

    [Fact]
    public async Task Cancel_in_Accruing_Should_reverse_points_credit_and_debit()
    {
        await AccruingAsync();
        await _saga.PublishAsync(new CancelSaga(OrderId));

        var saga = await _saga.InStateAsync(m => m.ReversingPoints);
        Assert.Equal(FailureCodes.CancelledByOperator, saga.FailureCode);
        Assert.Equal(OrderStateMachine.CancelledByOperatorReason, saga.FailureReason);
        await _saga.PublishAsync(new PointsAccrualReversed(OrderId, "alice", 25));
        await _saga.InStateAsync(m => m.ReversingCredit);
        await _saga.PublishAsync(new MerchantCreditReversed(OrderId, "shop", 25.50m));
        await _saga.InStateAsync(m => m.Refunding);
        await _saga.PublishAsync(new CustomerRefunded(OrderId, "alice", 25.50m));
        await _saga.InStateAsync(m => m.Cancelled);
    }

    [Fact]
    public async Task Cancel_while_compensating_Should_change_nothing()
    {
        await ReversingPointsAsync();
        await _saga.PublishAsync(new CancelSaga(OrderId));
        await _saga.SettleAsync();

        var saga = await _saga.InStateAsync(m => m.ReversingPoints);
        Assert.Equal(FailureCodes.StepTimedOut, saga.FailureCode);
        Assert.Equal(1, _saga.PublishedCount<ReversePointsAccrual>());
    }

    [Fact]
    public async Task Retry_and_cancel_on_an_ended_saga_Should_change_nothing()
    {
        await AccruingAsync();
        await _saga.PublishAsync(new PointsAccrued(OrderId, "alice", 25));
        await _saga.InStateAsync(m => m.Completed);

        await _saga.PublishAsync(new RetrySagaStep(OrderId, null));
        await _saga.PublishAsync(new CancelSaga(OrderId));
        await _saga.SettleAsync();

        var saga = await _saga.InStateAsync(m => m.Completed);
        Assert.Null(saga.FailureCode);
        Assert.Equal(1, _saga.PublishedCount<AccruePoints>());
        Assert.Equal(0, _saga.PublishedCount<ReversePointsAccrual>());
    }
}
