using MassTransit;
using MassTransit.Context;
using MassTransit.Saga;
using Microsoft.EntityFrameworkCore;

namespace EventShop.Messaging.Sagas;

public sealed class PostgresSagaConsumeContextFactory<TSaga> : ISagaConsumeContextFactory<DbContext, TSaga>
    where TSaga : class, ISaga
{
    public Task<SagaConsumeContext<TSaga, T>> CreateSagaConsumeContext<T>(DbContext context, ConsumeContext<T> consumeContext, TSaga instance,
        SagaConsumeContextMode mode)
        where T : class =>
        Task.FromResult<SagaConsumeContext<TSaga, T>>(new DefaultSagaConsumeContext<TSaga, T>(consumeContext, instance));
}
