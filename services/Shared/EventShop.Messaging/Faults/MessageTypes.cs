using System.Reflection;
using MassTransit;

namespace EventShop.Messaging.Faults;

/// <summary>The names fault rules use for consumed message types: <c>DebitCustomer</c>, <c>Fault&lt;DebitCustomer&gt;</c>.</summary>
public static class MessageTypes
{
    public static string NameOf(Type type) =>
        type.IsGenericType
            ? $"{type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(",", type.GetGenericArguments().Select(NameOf))}>"
            : type.Name;

    /// <summary>
    /// The message types a service consumes, read from its assembly: the <c>T</c> of every <c>IConsumer&lt;T&gt;</c> and of
    /// every <c>Event&lt;T&gt;</c> property of a state machine.
    /// </summary>
    public static IReadOnlyDictionary<string, Type> ConsumedBy(Assembly assembly)
    {
        var consumed = new Dictionary<string, Type>(StringComparer.Ordinal);
        foreach (var type in assembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false }))
        {
            foreach (var consumer in type.GetInterfaces().Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IConsumer<>)))
                consumed.TryAdd(NameOf(consumer.GetGenericArguments()[0]), consumer.GetGenericArguments()[0]);
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                         .Where(p => p.PropertyType.IsGenericType && p.PropertyType.GetGenericTypeDefinition() == typeof(Event<>)))
                consumed.TryAdd(NameOf(property.PropertyType.GetGenericArguments()[0]), property.PropertyType.GetGenericArguments()[0]);
        }
        return consumed;
    }
}
