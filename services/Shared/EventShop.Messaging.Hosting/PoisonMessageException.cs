namespace EventShop.Messaging.Hosting;

/// <summary>Thrown by a consumer for a message that can never succeed: it skips the retries and goes straight to the error queue.</summary>
public sealed class PoisonMessageException(string message) : Exception(message);
