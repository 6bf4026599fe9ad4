using System.Net;
using DefectInspector.Host.Options;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Hmi;

/// <summary>
/// Refuses requests a web page elsewhere could have made the station's browser send. Without users, the HMI trusts
/// whoever reaches it, which on loopback is meant to be the station's screen; a DNS-rebinding page reaches it too, but
/// under its own host name, so only loopback host names are answered there. Every state-changing request from a
/// browser carries Origin, which must be the HMI's own; tools without a browser send none and are let through.
/// </summary>
internal sealed class RequestGuard(IOptions<HmiOptions> options) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.HttpContext.Request;
        if (!options.Value.LoginRequired && !IsLoopbackHost(request.Host))
            return Refuse($"host '{request.Host}': expected localhost or a loopback address (this HMI has no login, so it serves only the station's own screen)");
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && request.Headers.Origin.Count > 0)
        {
            string origin = request.Headers.Origin.ToString();
            string own = $"{request.Scheme}://{request.Host}";
            if (!string.Equals(origin, own, StringComparison.OrdinalIgnoreCase))
                return Refuse($"origin '{origin}': expected {own}, the HMI's own page");
        }
        return next(context);
    }

    private static bool IsLoopbackHost(HostString host) =>
        host.HasValue && (string.Equals(host.Host, "localhost", StringComparison.OrdinalIgnoreCase)
                          || (IPAddress.TryParse(host.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address)));

    private static ValueTask<object?> Refuse(string why) =>
        ValueTask.FromResult<object?>(Results.Json(new ErrorView(why), HmiJson.Default.ErrorView, statusCode: StatusCodes.Status403Forbidden));
}
