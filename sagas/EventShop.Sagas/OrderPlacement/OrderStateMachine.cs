using EventShop.Contracts.Accounts;
using EventShop.Contracts.Orders;
using EventShop.Contracts.Points;
using MassTransit;
using Microsoft.Extensions.Options;

namespace EventShop.Sagas.OrderPlacement;

/// <summary>
/// Places an order: debit the customer, credit the merchant, accrue points, complete. A rejected or timed-out step is
/// compensated in reverse order (reverse points, reverse the credit, refund), each compensation written next to the step it
/// undoes. Compensations cannot be rejected (ADR 0004); one that gets no reply is sent again when its own timeout fires, up
/// to <see cref="OrderPlacementOptions.MaxCompensationAttempts"/> times, and then the saga ends in CompensationFailed for an
/// operator. An ended saga is kept: asked again (an <c>OrderSubmitted</c> re-published by Orders' reconciler, ADR 0008) it
/// announces its outcome again, so an outcome lost in an error queue cannot leave the order Pending.
/// </summary>
public sealed class OrderStateMachine : MassTransitStateMachine<OrderState>
{
    readonly TimeSpan _stepTimeout;
    readonly int _maxCompensationAttempts;
    readonly TimeProvider _clock;

    public OrderStateMachine(IOptions<OrderPlacementOptions> options, TimeProvider clock)
    {
        _stepTimeout = options.Value.StepTimeout;
        _maxCompensationAttempts = Math.Max(1, options.Value.MaxCompensationAttempts);
        _clock = clock;

        Event(() => OrderSubmitted, e => e.CorrelateById(m => m.Message.OrderId));
        Event(() => CustomerDebited, e => CorrelateReply(e, m => m.OrderId));
        Event(() => CustomerDebitRejected, e => CorrelateReply(e, m => m.OrderId));
        Event(() => MerchantCredited, e => CorrelateReply(e, m => m.OrderId));
        Event(() => MerchantCreditRejected, e => CorrelateReply(e, m => m.OrderId));
        Event(() => PointsAccrued, e => CorrelateReply(e, m => m.OrderId));
        Event(() => PointsAccrualRejected, e => CorrelateReply(e, m => m.OrderId));
        Event(() => PointsAccrualReversed, e => CorrelateReply(e, m => m.OrderId));
        Event(() => MerchantCreditReversed, e => CorrelateReply(e, m => m.OrderId));
        Event(() => CustomerRefunded, e => CorrelateReply(e, m => m.OrderId));
        Event(() => DebitFaulted, e => CorrelateReply(e, m => m.Message.OrderId));
        Event(() => CreditFaulted, e => CorrelateReply(e, m => m.Message.OrderId));
        Event(() => AccrualFaulted, e => CorrelateReply(e, m => m.Message.OrderId));
        Event(() => StepTimedOut, e =>
        {
            e.CorrelateById(m => m.Message.OrderId);
            e.OnMissingInstance(m => m.Discard());
        });
        Event(() => RetryRequested, e =>
        {
            e.CorrelateById(m => m.Message.OrderId);
            e.OnMissingInstance(m => m.Discard());
        });
        Event(() => CancelRequested, e =>
        {
            e.CorrelateById(m => m.Message.OrderId);
            e.OnMissingInstance(m => m.Discard());
        });

        InstanceState(x => x.CurrentState);

        Initially(
            When(OrderSubmitted)
                .Then(context =>
                {
                    var order = context.Message;
                    context.Saga.CustomerId = order.CustomerId;
                    context.Saga.MerchantId = order.MerchantId;
                    context.Saga.Total = order.Total;
                    context.Saga.Points = (long)decimal.Floor(order.Total);
                    context.Saga.CreatedAt = _clock.GetUtcNow();
                })
                .Then(StartStep)
                .Publish(context => new DebitCustomer(context.Saga.CorrelationId, context.Saga.CustomerId, context.Saga.Total))
                .TransitionTo(Debiting));

        During(Debiting,
            When(CustomerDebited)
                .Then(StartStep)
                .Publish(context => new CreditMerchant(context.Saga.CorrelationId, context.Saga.MerchantId, context.Saga.Total))
                .TransitionTo(Crediting),
            // Nothing was taken: nothing to undo.
            When(CustomerDebitRejected)
                .Then(context => Fail(context.Saga, FailureCodes.DebitRejected(context.Message.Reason), $"Customer debit rejected: {context.Message.Reason}"))
                .Then(EndSaga)
                .Publish(context => CancellationOf(context.Saga))
                .TransitionTo(Cancelled),
            // The debit may still happen late: the refund returns it, or voids it if it has not arrived yet.
            UndoUncertainStep(When(StepTimedOut, IsCurrentStep), FailureCodes.StepTimedOut, _ => "Customer debit timed out", Refund, Refunding),
            UndoUncertainStep(When(DebitFaulted), FailureCodes.StepFailed, context => FaultReason("Customer debit", context.Message), Refund, Refunding),
            RetryStepOnRequest(context => new DebitCustomer(context.Saga.CorrelationId, context.Saga.CustomerId, context.Saga.Total)),
            UndoUncertainStep(When(CancelRequested), FailureCodes.CancelledByOperator, _ => CancelledByOperatorReason, Refund, Refunding));

        During(Crediting,
            When(MerchantCredited)
                .Then(StartStep)
                .Publish(context => new AccruePoints(context.Saga.CorrelationId, context.Saga.CustomerId, context.Saga.Points))
                .TransitionTo(Accruing),
            When(MerchantCreditRejected)
                .Then(context => Fail(context.Saga, FailureCodes.CreditRejected(context.Message.Reason), $"Merchant credit rejected: {context.Message.Reason}"))
                .Then(StartStep)
                .Publish(context => Refund(context.Saga))
                .TransitionTo(Refunding),
            UndoUncertainStep(When(StepTimedOut, IsCurrentStep), FailureCodes.StepTimedOut, _ => "Merchant credit timed out", ReverseCredit, ReversingCredit),
            UndoUncertainStep(When(CreditFaulted), FailureCodes.StepFailed, context => FaultReason("Merchant credit", context.Message), ReverseCredit, ReversingCredit),
            RetryStepOnRequest(context => new CreditMerchant(context.Saga.CorrelationId, context.Saga.MerchantId, context.Saga.Total)),
            UndoUncertainStep(When(CancelRequested), FailureCodes.CancelledByOperator, _ => CancelledByOperatorReason, ReverseCredit, ReversingCredit));

        During(Accruing,
            When(PointsAccrued)
                .Then(EndSaga)
                .Publish(context => new OrderCompleted(context.Saga.CorrelationId, context.Saga.Points, _clock.GetUtcNow()))
                .TransitionTo(Completed),
            When(PointsAccrualRejected)
                .Then(context => Fail(context.Saga, FailureCodes.AccrualRejected(context.Message.Reason), $"Points accrual rejected: {context.Message.Reason}"))
                .Then(StartStep)
                .Publish(context => ReverseCredit(context.Saga))
                .TransitionTo(ReversingCredit),
            UndoUncertainStep(When(StepTimedOut, IsCurrentStep), FailureCodes.StepTimedOut, _ => "Points accrual timed out", ReversePoints, ReversingPoints),
            UndoUncertainStep(When(AccrualFaulted), FailureCodes.StepFailed, context => FaultReason("Points accrual", context.Message), ReversePoints, ReversingPoints),
            RetryStepOnRequest(context => new AccruePoints(context.Saga.CorrelationId, context.Saga.CustomerId, context.Saga.Points)),
            UndoUncertainStep(When(CancelRequested), FailureCodes.CancelledByOperator, _ => CancelledByOperatorReason, ReversePoints, ReversingPoints));

        During(ReversingPoints,
            PointsReversed(When(PointsAccrualReversed)),
            RetryCompensation("Points reversal", ReversePoints),
            RetryStepOnRequest(context => ReversePoints(context.Saga)));

        During(ReversingCredit,
            CreditReversed(When(MerchantCreditReversed)),
            RetryCompensation("Merchant credit reversal", ReverseCredit),
            RetryStepOnRequest(context => ReverseCredit(context.Saga)));

        During(Refunding,
            Refunded(When(CustomerRefunded)),
            RetryCompensation("Customer refund", Refund),
            RetryStepOnRequest(context => Refund(context.Saga)));

        // An operator's retry sends the compensation that ran out of attempts once more, with a fresh budget, from the state
        // it gave up in. Its reply may still arrive by itself: the attempts only ran out because no reply came in time (its
        // service restarting under a backlog, its command waiting in an error queue for redelivery), and the compensation
        // then did happen. That reply finishes what the saga gave up on, as it would have in the compensating state: a CI run
        // left two orders Pending for good with their refunds made, the late CustomerRefunded ignored in CompensationFailed.
        During(CompensationFailed,
            ResumeCompensation(nameof(ReversingPoints), () => ReversingPoints, ReversePoints),
            ResumeCompensation(nameof(ReversingCredit), () => ReversingCredit, ReverseCredit),
            ResumeCompensation(nameof(Refunding), () => Refunding, Refund),
            PointsReversed(When(PointsAccrualReversed, GaveUpIn<PointsAccrualReversed>(nameof(ReversingPoints))).Then(LateReply)),
            CreditReversed(When(MerchantCreditReversed, GaveUpIn<MerchantCreditReversed>(nameof(ReversingCredit))).Then(LateReply)),
            Refunded(When(CustomerRefunded, GaveUpIn<CustomerRefunded>(nameof(Refunding))).Then(LateReply)));

        // Orders re-publishes OrderSubmitted for an order it still sees Pending past its budget: the outcome (or the
        // OrderSubmitted itself) may sit in an error queue. An ended saga answers with its outcome again; the consumers
        // in Orders ignore an outcome for an order that has already ended. In flight the question is simply ignored.
        During(Completed,
            When(OrderSubmitted)
                .Publish(context => new OrderCompleted(context.Saga.CorrelationId, context.Saga.Points, context.Saga.UpdatedAt)));

        During(Cancelled,
            When(OrderSubmitted)
                .Publish(context => new OrderCancelled(context.Saga.CorrelationId, context.Saga.FailureReason ?? "Cancelled", context.Saga.UpdatedAt,
                    context.Saga.FailureCode)));

        // Duplicates, late replies after a timeout, and anything for a finished saga: acknowledged, no effect.
        OnUnhandledEvent(context => context.Ignore());

        this.ConnectStateObserver(new TransitionHistoryObserver(_clock));
    }

    /// <summary>
    /// A step's reply finds its saga by order id. A reply for an order this saga never started (a command sent by hand, a
    /// saga row removed) moves nothing on: it is logged and acknowledged, not retried into the error queue.
    /// </summary>
    static void CorrelateReply<T>(IEventCorrelationConfigurator<OrderState, T> reply, Func<T, Guid> orderId)
        where T : class
    {
        reply.CorrelateById(context => orderId(context.Message));
        reply.OnMissingInstance(missing => missing.Execute(context =>
            LogContext.Warning?.Log("{MessageType} for order {OrderId} ignored: no saga for that order",
                typeof(T).Name, orderId(context.Message))));
    }

    public State Debiting { get; private set; } = null!;
    public State Crediting { get; private set; } = null!;
    public State Accruing { get; private set; } = null!;
    public State Completed { get; private set; } = null!;
    public State ReversingPoints { get; private set; } = null!;
    public State ReversingCredit { get; private set; } = null!;
    public State Refunding { get; private set; } = null!;
    public State Cancelled { get; private set; } = null!;

    /// <summary>A compensation got no reply after every attempt: money may be half-moved, and only an operator can finish it.</summary>
    public State CompensationFailed { get; private set; } = null!;

    public Event<OrderSubmitted> OrderSubmitted { get; private set; } = null!;
    public Event<CustomerDebited> CustomerDebited { get; private set; } = null!;
    public Event<CustomerDebitRejected> CustomerDebitRejected { get; private set; } = null!;
    public Event<MerchantCredited> MerchantCredited { get; private set; } = null!;
    public Event<MerchantCreditRejected> MerchantCreditRejected { get; private set; } = null!;
    public Event<PointsAccrued> PointsAccrued { get; private set; } = null!;
    public Event<PointsAccrualRejected> PointsAccrualRejected { get; private set; } = null!;
    public Event<PointsAccrualReversed> PointsAccrualReversed { get; private set; } = null!;
    public Event<MerchantCreditReversed> MerchantCreditReversed { get; private set; } = null!;
    public Event<CustomerRefunded> CustomerRefunded { get; private set; } = null!;
    public Event<OrderStepTimedOut> StepTimedOut { get; private set; } = null!;
    public Event<RetrySagaStep> RetryRequested { get; private set; } = null!;
    public Event<CancelSaga> CancelRequested { get; private set; } = null!;

    /// <summary>The step's command failed in its service after every retry and went to its _error queue.</summary>
    public Event<Fault<DebitCustomer>> DebitFaulted { get; private set; } = null!;
    public Event<Fault<CreditMerchant>> CreditFaulted { get; private set; } = null!;
    public Event<Fault<AccruePoints>> AccrualFaulted { get; private set; } = null!;

    // A step that timed out or faulted has an uncertain outcome: it may have happened, or still happen if an operator moves
    // the command back from _error. So both undo the step itself too (the undo reverses it, or voids it so it is rejected
    // later: ADR 0004), unlike a rejection, which is a definite "nothing happened".
    // An operator's cancel is undone the same way: the step in flight may still happen.
    EventActivityBinder<OrderState, T> UndoUncertainStep<T, TUndo>(EventActivityBinder<OrderState, T> when, string failureCode,
        Func<BehaviorContext<OrderState, T>, string> reason, Func<OrderState, TUndo> undo, State undoing)
        where T : class
        where TUndo : class =>
        when.Then(context => Fail(context.Saga, failureCode, reason(context)))
            .Then(context => SagaMetrics.Compensation(context.Saga.CurrentState, failureCode))
            .Then(StartStep)
            .Publish(context => undo(context.Saga))
            .TransitionTo(undoing);

    /// <summary>A compensation's timeout: send it again, or, once its attempts are spent, stop and wait for an operator.</summary>
    EventActivityBinder<OrderState, OrderStepTimedOut> RetryCompensation<TUndo>(string compensation, Func<OrderState, TUndo> undo)
        where TUndo : class =>
        When(StepTimedOut, IsCurrentStep)
            .IfElse(context => context.Saga.StepAttempts < _maxCompensationAttempts,
                retry => retry
                    .Then(RetryStep)
                    .Then(context => SagaMetrics.Retry(context.Saga.CurrentState, "timeout"))
                    .Publish(context => undo(context.Saga)),
                giveUp => giveUp
                    .Then(context => context.Saga.CompensationFailure = Cut(
                        $"{compensation} got no reply after {context.Saga.StepAttempts} attempts; {context.Saga.FailureReason ?? "no failure recorded"}"))
                    .Then(context => context.Saga.FailedCompensation = context.Saga.CurrentState)
                    .Then(EndSaga)
                    .TransitionTo(CompensationFailed));

    /// <summary>An operator's retry of the step in flight: its command once more, one attempt more, a new timeout.</summary>
    EventActivityBinder<OrderState, RetrySagaStep> RetryStepOnRequest<TCommand>(Func<BehaviorContext<OrderState, RetrySagaStep>, TCommand> command)
        where TCommand : class =>
        When(RetryRequested)
            .Then(RetryStep)
            .Then(context => SagaMetrics.Retry(context.Saga.CurrentState, "operator"))
            .Publish(context => command(context));

    // Each compensation's reply moves the saga to the next undo, or ends it Cancelled once the customer has been refunded.
    EventActivityBinder<OrderState, PointsAccrualReversed> PointsReversed(EventActivityBinder<OrderState, PointsAccrualReversed> reply) =>
        reply.Then(StartStep)
            .Publish(context => ReverseCredit(context.Saga))
            .TransitionTo(ReversingCredit);

    EventActivityBinder<OrderState, MerchantCreditReversed> CreditReversed(EventActivityBinder<OrderState, MerchantCreditReversed> reply) =>
        reply.Then(StartStep)
            .Publish(context => Refund(context.Saga))
            .TransitionTo(Refunding);

    EventActivityBinder<OrderState, CustomerRefunded> Refunded(EventActivityBinder<OrderState, CustomerRefunded> reply) =>
        reply.Then(EndSaga)
            .Publish(context => CancellationOf(context.Saga))
            .TransitionTo(Cancelled);

    /// <summary>A reply to the compensation the saga gave up on in <paramref name="state"/>, not to an earlier one.</summary>
    static StateMachineCondition<OrderState, T> GaveUpIn<T>(string state) where T : class =>
        context => context.Saga.FailedCompensation == state;

    /// <summary>The compensation that gave up has happened after all: nothing is left for an operator.</summary>
    static void LateReply(BehaviorContext<OrderState> context)
    {
        SagaMetrics.LateCompensationReply(context.Saga.FailedCompensation!);
        context.Saga.CompensationFailure = null;
        context.Saga.FailedCompensation = null;
    }

    /// <summary>An operator's retry of the compensation that gave up: back to its state with a fresh budget of attempts.</summary>
    EventActivityBinder<OrderState, RetrySagaStep> ResumeCompensation<TUndo>(string state, Func<State> compensating, Func<OrderState, TUndo> undo)
        where TUndo : class =>
        When(RetryRequested, context => (context.Message.Compensation ?? context.Saga.FailedCompensation) == state)
            .Then(context =>
            {
                StartStep(context);
                context.Saga.CompensationFailure = null;
                context.Saga.FailedCompensation = null;
                SagaMetrics.Retry(state, "operator");
            })
            .Publish(context => undo(context.Saga))
            .TransitionTo(compensating());

    /// <summary>The customer reads the reason: it names the step, never the exception, whose text (a connection string, a
    /// constraint, a stack) is for operators and stays with the failed message in its error queue (GET /api/failures).</summary>
    static string FaultReason<T>(string step, Fault<T> _) where T : class => $"{step} failed";

    /// <summary>A new step: a new token, and a timeout the database turns into a deadline on its own clock (ADR 0008).</summary>
    void StartStep(BehaviorContext<OrderState> context)
    {
        if (context.Saga.StepTimeout is not null)
            SagaMetrics.StepEnded(context.Saga.CurrentState, _clock.GetUtcNow() - context.Saga.UpdatedAt);
        context.Saga.StepToken = NewId.NextGuid();
        context.Saga.StepTimeout = _stepTimeout;
        context.Saga.StepAttempts = 1;
        context.Saga.UpdatedAt = _clock.GetUtcNow();
    }

    /// <summary>The same step's command once more: a new token (so the old timeout is stale) and one attempt more.</summary>
    void RetryStep(BehaviorContext<OrderState> context)
    {
        var attempts = context.Saga.StepAttempts;
        StartStep(context);
        context.Saga.StepAttempts = attempts + 1;
    }

    void EndSaga(BehaviorContext<OrderState> context)
    {
        if (context.Saga.StepTimeout is not null)
            SagaMetrics.StepEnded(context.Saga.CurrentState, _clock.GetUtcNow() - context.Saga.UpdatedAt);
        context.Saga.StepTimeout = null;
        context.Saga.StepDeadline = null;
        context.Saga.UpdatedAt = _clock.GetUtcNow();
    }

    static bool IsCurrentStep(BehaviorContext<OrderState, OrderStepTimedOut> context) => context.Message.StepToken == context.Saga.StepToken;

    /// <summary>The first failure wins. Cut to the column's 200 characters: a fault's exception message can be any length.</summary>
    static void Fail(OrderState saga, string code, string reason)
    {
        if (saga.FailureReason is not null)
            return;
        saga.FailureReason = Cut(reason);
        saga.FailureCode = code;
    }

    public const string CancelledByOperatorReason = "Cancelled by operator";

    static string Cut(string reason) =>
        reason.Length <= MaxReasonLength ? reason : string.Concat(reason.AsSpan(0, MaxReasonLength - 3), "...");

    const int MaxReasonLength = 200;

    OrderCancelled CancellationOf(OrderState saga) =>
        new(saga.CorrelationId, saga.FailureReason ?? "Cancelled", _clock.GetUtcNow(), saga.FailureCode);

    static RefundCustomer Refund(OrderState saga) => new(saga.CorrelationId, saga.CustomerId);

    static ReverseMerchantCredit ReverseCredit(OrderState saga) => new(saga.CorrelationId, saga.MerchantId);

    static ReversePointsAccrual ReversePoints(OrderState saga) => new(saga.CorrelationId, saga.CustomerId);
}
