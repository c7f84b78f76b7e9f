using System.Text.Json;
using EventShop.Dashboard.Apis;

namespace EventShop.Dashboard.Live;

/// <summary>A stuck saga or order, without its ever-growing age (so an unchanged list is an unchanged snapshot).</summary>
public sealed record LiveStuckItem(Guid OrderId, string Kind, string? State, double BudgetSeconds);

/// <summary>
/// What the operator console shows live, pushed whenever any part of it changes. The saga parts are the saga host's own
/// answers (<c>/api/sagas</c>), passed on as they are.
/// </summary>
/// <param name="Counts">Sagas per state, every saga.</param>
/// <param name="StuckSagas">The stuck sagas, newest change first; <paramref name="StuckItems"/> says what each is stuck in.</param>
/// <param name="InFlight">Sagas not ended, newest change first (at most 100).</param>
/// <param name="Cancelled">The latest 50 cancelled sagas.</param>
/// <param name="Recent">The latest 10 sagas to change.</param>
/// <param name="Failures">The newest 50 failed messages and every group, or null when none could be read yet.</param>
/// <param name="Saga">The saga the operator has open (<c>orderId</c>), with its history; null when there is none.</param>
/// <param name="Unavailable">Sources that did not answer this time (<c>sagas</c>, <c>broker</c>, <c>&lt;service&gt;-outbox</c>): their parts are the last known.</param>
public sealed record LiveSnapshot(JsonElement Counts, int Stuck, int NeedsOperator, JsonElement StuckSagas, LiveStuckItem[] StuckItems,
    JsonElement[] InFlight, JsonElement Cancelled, JsonElement Recent, FailureListResponse? Failures, int FailureCount, JsonElement? Saga,
    string[] Unavailable);
