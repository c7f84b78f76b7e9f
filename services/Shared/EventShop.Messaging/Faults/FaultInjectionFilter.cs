using System.Diagnostics;
using System.Diagnostics.Metrics;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace EventShop.Messaging.Faults;

/// <summary>
/// The one place on the bus where fault rules act (ADR 0014): between the retry filter and the transactional inbox, so a
/// <c>fail</c> is retried like any failure and a <c>duplicate</c> meets the inbox. <c>fail</c>, <c>drop-reply</c> and the
/// crash points inside the commit are armed here and carried out at their stage: a <c>fail</c> inside the consumer's pipe
/// (<see cref="InjectedFailureObserver"/>), the others by the unit of work's hook. Only on the bus when fault injection is enabled.
/// </summary>
public sealed class FaultInjectionFilter<TMessage>(FaultRules rules, UnitOfWork unitOfWork, ILogger<FaultInjectionFilter<TMessage>> logger)
    : IFilter<ConsumeContext<TMessage>>
    where TMessage : class
{
    static readonly string MessageType = MessageTypes.NameOf(typeof(TMessage));
    static readonly Counter<long> FiredCounter = MessagingMetrics.Meter.CreateCounter<long>("eventshop.faults.fired", "{fault}",
        "Fault rules that fired (fault injection, ADR 0014)");

    public async Task Send(ConsumeContext<TMessage> context, IPipe<ConsumeContext<TMessage>> next)
    {
        var rule = await rules.FireAsync(MessageType, context.Message, context.CancellationToken);
        if (rule is null)
        {
            await next.Send(context);
            return;
        }

        Report(rule, context);
        switch (rule.Action)
        {
            case FaultActions.Delay:
                await Task.Delay(TimeSpan.FromMilliseconds(rule.DelayMs ?? 0), context.CancellationToken);
                await next.Send(context);
                break;
            case FaultActions.Duplicate:
                // Delivered twice: once handled, the same message (same MessageId) goes back to its queue, as a broker's
                // redelivery or a publisher's retry would send it. The inbox must give it no second effect.
                await next.Send(context);
                await SendCopyAsync(rule, context);
                break;
            case FaultActions.Crash when rule.CrashPoint == CrashPoints.BeforeAck:
                await next.Send(context);
                FaultCrash.Now(rule, CrashPoints.BeforeAck, logger);
                break;
            default:
                // fail, drop-reply and the crash points inside the commit: armed here, carried out at their stage, a fail
                // inside the consumer's pipe (InjectedFailureObserver) so that it becomes a Fault<T> like any handler's.
                unitOfWork.ArmedFault = new ArmedFault(rule, logger);
                try
                {
                    await next.Send(context);
                }
                finally
                {
                    unitOfWork.ArmedFault = null;
                }
                break;
        }
    }

    static async Task SendCopyAsync(FaultRule rule, ConsumeContext<TMessage> context)
    {
        var queue = await context.GetSendEndpoint(context.ReceiveContext.InputAddress);
        await queue.Send(context.Message, Pipe.Execute<SendContext<TMessage>>(copy =>
        {
            copy.MessageId = context.MessageId;
            copy.CorrelationId = context.CorrelationId;
            copy.ConversationId = context.ConversationId;
            copy.InitiatorId = context.InitiatorId;
            copy.Headers.Set("EventShop-Fault-Rule", rule.Id.ToString());
        }), context.CancellationToken);
    }

    void Report(FaultRule rule, ConsumeContext<TMessage> context)
    {
        logger.LogWarning("Fault rule {FaultRuleId} fired ({Fired} of {Times}): {Action} {CrashPoint} on {MessageType} {MessageId}",
            rule.Id, rule.Fired, rule.Times, rule.Action, rule.CrashPoint, MessageType, context.MessageId);
        FiredCounter.Add(1, new KeyValuePair<string, object?>("eventshop.fault.action", rule.Action),
            new KeyValuePair<string, object?>("messaging.message.type", MessageType));
        if (Activity.Current is { } activity)
        {
            activity.SetTag("eventshop.fault.rule_id", rule.Id.ToString());
            activity.AddEvent(new ActivityEvent("eventshop.fault", tags: new ActivityTagsCollection
            {
                ["eventshop.fault.rule_id"] = rule.Id.ToString(),
                ["eventshop.fault.action"] = rule.Action,
                ["eventshop.fault.crash_point"] = rule.CrashPoint,
                ["eventshop.fault.fired"] = rule.Fired,
            }));
        }
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("faultInjection");
}

/// <summary>A rule the unit of work of the message being handled carries out at its stage of the commit.</summary>
public sealed record ArmedFault(FaultRule Rule, ILogger Logger);

public static class FaultCrash
{
    /// <summary>Dies at once, as under SIGKILL: no graceful stop, no disposal, no acknowledgement, nothing flushed but this line.</summary>
    public static void Now(FaultRule rule, string crashPoint, ILogger logger)
    {
        logger.LogWarning("Fault rule {FaultRuleId}: the process dies at {CrashPoint}", rule.Id, crashPoint);
        // The logger writes on a background thread that dies with the process: say it on stderr too, synchronously.
        Console.Error.WriteLine($"[fault injection] rule {rule.Id}: killing this process (pid {Environment.ProcessId}) at {crashPoint}");
        Console.Error.Flush();
        using var self = Process.GetCurrentProcess();
        self.Kill();
        Environment.FailFast($"Fault rule {rule.Id}: crash at {crashPoint}");
    }
}
