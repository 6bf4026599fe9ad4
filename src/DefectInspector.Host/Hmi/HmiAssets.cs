using System.Collections.Frozen;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace DefectInspector.Host.Hmi;

/// <summary>
/// The page, its script and style, compiled into the daemon (Hmi/Page/): the HMI works without internet and cannot
/// drift from the daemon it talks to. The page carries the configured language (Hmi:Language) for i18n.js to read.
/// </summary>
internal static class HmiAssets
{
    private static readonly FrozenDictionary<string, Asset> Assets = Load();

    private const string Page = "index.html";

    public static void Map(IEndpointRouteBuilder hmi, string language)
    {
        var page = InLanguage(Assets[Page], language);
        hmi.MapGet("/", (HttpContext context) => Serve(context, page));
        hmi.MapGet("/{file}", (HttpContext context, string file) =>
            file == Page ? Serve(context, page) : Assets.TryGetValue(file, out var asset) ? Serve(context, asset) : Results.NotFound());
    }

    private static Asset InLanguage(Asset page, string language)
    {
        const string placeholder = "data-language=\"auto\"";
        string html = Encoding.UTF8.GetString(page.Content);
        if (!html.Contains(placeholder, StringComparison.Ordinal)) throw new InvalidOperationException($"hmi/{Page} has no {placeholder} to set the language in");
        return Create(Encoding.UTF8.GetBytes(html.Replace(placeholder, $"data-language=\"{WebUtility.HtmlEncode(language)}\"", StringComparison.Ordinal)), page.ContentType);
    }

    private static IResult Serve(HttpContext context, Asset asset)
    {
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
                return Create(copy.ToArray(), ContentType(n));
            });
    }

    private static Asset Create(byte[] content, string contentType) =>
        new(content, contentType, new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\""));

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
