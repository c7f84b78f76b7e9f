using EventShop.Messaging;

namespace EventShop.IntegrationTests;

public sealed class RetryBackoffTests
{
    [Theory]
    [InlineData(1, 100)]
    [InlineData(2, 200)]
    [InlineData(5, 1_600)]
    [InlineData(6, 2_000)]
    [InlineData(1_000, 2_000)]
    public void Doubles_from_the_first_delay_up_to_the_cap(int consecutiveFailures, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs),
            RetryBackoff.After(consecutiveFailures, first: TimeSpan.FromMilliseconds(100), max: TimeSpan.FromSeconds(2)));
}
