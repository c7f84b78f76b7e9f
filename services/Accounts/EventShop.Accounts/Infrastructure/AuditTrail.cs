using System.Net.Http.Headers;

namespace EventShop.Accounts.Infrastructure;

/// <summary>
/// The operators' audit trail, which the saga host keeps (ADR 0016). An operator's action here is recorded there before it
/// is made, under the operator's own token, so the trail names who did it and never takes the subject on trust.
/// Address from <c>Services:sagas</c>.
/// </summary>
public sealed class AuditTrail(HttpClient http)
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    sealed record AuditRecord(string Action, string Target, string Service, Guid? OrderId, string? Detail);

    /// <returns>False when the trail did not take the entry: the action must then not be made.</returns>
    public async Task<bool> RecordAsync(string action, string target, string detail, string authorization, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/audit")
        {
            Content = JsonContent.Create(new AuditRecord(action, target, "accounts", null, detail)),
        };
        request.Headers.Authorization = AuthenticationHeaderValue.Parse(authorization);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return false;
        }
    }
}
