using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EventShop.ServiceDefaults;

/// <summary>Collects field errors so a request is rejected once, with every problem named (RFC 9457 validation problem).</summary>
public sealed class Validation
{
    readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsValid => _errors.Count == 0;

    public Validation Require(bool condition, string field, string message)
    {
        if (!condition)
        {
            if (!_errors.TryGetValue(field, out var messages))
                _errors[field] = messages = [];
            messages.Add(message);
        }

        return this;
    }

    public Validation Identifier(string? value, string field, int maxLength = 100) =>
        Require(!string.IsNullOrWhiteSpace(value), field, "is required")
            .Require(value is null || value.Length <= maxLength, field, $"must be at most {maxLength} characters")
            .Require(value is null || value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '@'), field,
                "may contain only letters, digits, '-', '_', '.' and '@'");

    public Validation Money(decimal value, string field, bool allowZero) =>
        Require(allowZero ? value >= 0 : value > 0, field, allowZero ? "must not be negative" : "must be greater than 0")
            .Require(decimal.Round(value, 2) == value, field, "must have at most 2 decimals")
            .Require(value <= 1_000_000_000m, field, "is too large");

    public ValidationProblem ToProblem() =>
        TypedResults.ValidationProblem(_errors.ToDictionary(x => x.Key, x => x.Value.ToArray()));
}
