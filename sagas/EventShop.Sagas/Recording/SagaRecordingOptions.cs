namespace EventShop.Sagas.Recording;

public sealed class SagaRecordingOptions
{
    public const string Section = "Saga:Recording";

    /// <summary>Record every consumed message (on by default: replay and the scenario exporter read it).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long a recorded message is kept.</summary>
    public int RetentionDays { get; set; } = 7;

    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Rows deleted per statement: each delete stays short, so sagas recording new rows are never held up long.</summary>
    public int CleanupBatchSize { get; set; } = 5000;
}
