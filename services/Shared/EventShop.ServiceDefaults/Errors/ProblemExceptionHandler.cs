using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace EventShop.ServiceDefaults.Errors;

/// <summary>
/// Turns an exception into a problem document. A bad request (a parameter that does not bind, a body that is not JSON or does
/// not fit its type) is the client's mistake: 4xx naming the field, logged at Information. A transient database failure
/// (a pooled connection the server terminated, a failover, a conflict) is 503 with Retry-After, logged as a Warning: the
/// same request can succeed a moment later, and the gateway sends a GET or HEAD again by itself on a 503. Anything else is
/// ours: 500 with the trace id only, and the exception goes to the log, never to the client.
/// </summary>
public sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ProblemDetails problem;
        if (exception is BadHttpRequestException badRequest)
        {
            problem = FromBadRequest(badRequest);
            LogBadRequest(logger, httpContext.Request.Method, httpContext.Request.Path, badRequest.StatusCode, exception.Message);
        }
        else if (IsTransientDatabaseFailure(exception))
        {
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Temporarily unavailable",
                Detail = "The database failed for a moment; send the request again (a POST with the same Idempotency-Key).",
            };
            httpContext.Response.Headers.RetryAfter = "1";
            LogTransient(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
        }
        else
        {
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Title = "An unexpected error occurred",
                Detail = "The error was logged with this request's trace id.",
            };
            LogUnexpected(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
        }

        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    static bool IsTransientDatabaseFailure(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is System.Data.Common.DbException { IsTransient: true })
                return true;
        }
        return false;
    }

    static ProblemDetails FromBadRequest(BadHttpRequestException exception)
    {
        if (exception.StatusCode == StatusCodes.Status415UnsupportedMediaType)
            return new ProblemDetails { Status = exception.StatusCode, Title = "Unsupported media type", Detail = ProblemResponses.JsonOnlyDetail };
        if (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
            return new ProblemDetails { Status = exception.StatusCode, Title = "Request body too large" };
        if (exception.StatusCode != StatusCodes.Status400BadRequest)
            return new ProblemDetails { Status = exception.StatusCode };

        var (field, message) = exception.InnerException is JsonException json
            ? JsonBody.FieldError(json)
            : ParameterError(exception.Message);
        return new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
        {
            Status = StatusCodes.Status400BadRequest,
        };
    }

    /// <summary>
    /// Minimal APIs say which parameter failed only in the message: 'Failed to bind parameter "int? limit" from "abc".' or
    /// 'Required parameter "string name" was not provided from query string.'
    /// </summary>
    static (string Field, string Message) ParameterError(string exceptionMessage)
    {
        if (exceptionMessage.Contains("no body was provided", StringComparison.Ordinal))
            return ("body", "is required");
        var match = ParameterPattern().Match(exceptionMessage);
        if (!match.Success)
            return ("request", "is malformed");
        // The type as the binder writes it: "int?", "Nullable<int>" or "int".
        var type = match.Groups["type"].Value.Replace("Nullable<", "", StringComparison.Ordinal).TrimEnd('?', '>');
        // Named as the client writes it (camelCase): a parameter bound from a record with [AsParameters] carries its property's name.
        var name = match.Groups["name"].Value is [var first, .. var rest] ? char.ToLowerInvariant(first) + rest : "request";
        if (exceptionMessage.StartsWith("Required parameter", StringComparison.Ordinal))
            return (name, "is required");
        return (name, type switch
        {
            "int" or "long" or "short" => "must be a whole number",
            "decimal" or "double" => "must be a number",
            "bool" => "must be true or false",
            "Guid" => "must be a UUID",
            _ => "has an invalid value",
        });
    }

    [GeneratedRegex("parameter \"(?<type>[^\" ]+) (?<name>[^\" ]+)\"")]
    private static partial Regex ParameterPattern();

    [LoggerMessage(Level = LogLevel.Information, Message = "Bad request {Method} {Path} answered {StatusCode}: {Reason}")]
    static partial void LogBadRequest(ILogger logger, string method, PathString path, int statusCode, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Transient database failure in {Method} {Path}: answered 503")]
    static partial void LogTransient(ILogger logger, Exception exception, string method, PathString path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected error in {Method} {Path}")]
    static partial void LogUnexpected(ILogger logger, Exception exception, string method, PathString path);
}
