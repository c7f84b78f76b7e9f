using MassTransit;
using Npgsql;

namespace EventShop.Messaging.Hosting.Redelivery;

/// <summary>
/// A message's handling failed past its in-process retries for a cause that passes by itself (the database unreachable,
/// a connection dropped, a conflict): the exception MassTransit records in the error queue's <c>MT-Fault-ExceptionType</c>
/// header, so that <see cref="ErrorQueueRedeliverer"/> can tell what is worth delivering again from what needs a person.
/// </summary>
public sealed class TransientFailureException(Exception cause)
    : Exception($"Transient failure, delivered again automatically: {cause.GetType().Name}: {cause.Message}", cause)
{
    public static readonly string TypeName = typeof(TransientFailureException).FullName!;

    /// <summary>
    /// Itself: MassTransit names the base exception in the error queue's fault headers, and that must be this type (the
    /// cause stays the inner exception, in the message text and in the logs).
    /// </summary>
    public override Exception GetBaseException() => this;

    /// <summary>
    /// A cause that passes by itself: PostgreSQL's or Npgsql's own transient classification (connection lost or refused,
    /// server shutting down, too many connections, deadlock, serialization failure) anywhere in the chain of causes.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        TransientFailureException => true,
        NpgsqlException { IsTransient: true } => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsTransient),
        { InnerException: { } inner } => IsTransient(inner),
        _ => false,
    };
}

/// <summary>
/// Outside the message retry: a failure that is still transient when the retries ran out reaches the error queue as a
/// <see cref="TransientFailureException"/> (its cause inside). Every other failure passes unchanged.
/// </summary>
public sealed class TransientFailureFilter : IFilter<ConsumeContext>
{
    public async Task Send(ConsumeContext context, IPipe<ConsumeContext> next)
    {
        try
        {
            await next.Send(context);
        }
        catch (Exception exception) when (exception is not TransientFailureException && TransientFailureException.IsTransient(exception))
        {
            throw new TransientFailureException(exception);
        }
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("transientFailure");
}
