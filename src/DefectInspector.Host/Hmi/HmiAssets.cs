using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace DefectInspector.Host.Hmi;

/// <summary>
/// The page, its script and style, compiled into the daemon (Hmi/Page/): the HMI works without internet and cannot
/// drift from the daemon it talks to.
/// </summary>
internal static class HmiAssets
{
    private static readonly FrozenDictionary<string, Asset> Assets = Load();

    public static void Map(IEndpointRouteBuilder hmi)
    {
        hmi.MapGet("/", (HttpContext context) => Serve(context, "index.html"));
        hmi.MapGet("/{file}", (HttpContext context, string file) => Serve(context, file));
    }

    private static IResult Serve(HttpContext context, string file)
    {
        if (!Assets.TryGetValue(file, out var asset)) return Results.NotFound();
        // The page's own content only: no inline script, no other origin, not framed by another site.
        context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        return Results.Bytes(asset.Content, asset.ContentType, entityTag: asset.Tag);
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(HmiAssets).Assembly;
        const string prefix = "hmi/";
        return assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).ToFrozenDictionary(
            n => n[prefix.Length..],
            n =>
            {
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                byte[] content = copy.ToArray();
                return new Asset(content, ContentType(n), new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\""));
            });
    }

    private static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };

    private sealed record Asset(byte[] Content, string ContentType, EntityTagHeaderValue Tag);
}
