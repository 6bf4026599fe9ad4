using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Threading.RateLimiting;
using DefectInspector.Host.Options;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Hmi;

/// <summary>
/// Who may use the HMI: with users configured (always beyond loopback), a login with a session cookie; on a loopback
/// station without users, whoever sits at the screen, as operator "local". Operators review; engineers also see the
/// model, its thresholds and the audit trail.
/// </summary>
internal static class HmiAccess
{
    public const string OperatorPolicy = "hmi-operator";
    public const string EngineerPolicy = "hmi-engineer";
    public const string LoginLimit = "hmi-login";
    public const string LocalUser = "local";
    private const string LocalScheme = "hmi-local";

    public static void Add(WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // Both schemes are registered; the validated Hmi options choose the default and the session length when
        // authentication first needs them (after the start-up checks), so a bad value is reported as such, not thrown
        // while the host is built.
        services.AddAuthentication()
            .AddCookie(o =>
            {
                o.Cookie.Name = "defect-inspector-hmi";
                o.Cookie.HttpOnly = true;
                // Strict same-site cookies and JSON-only request bodies (a cross-site form cannot send JSON without
                // the browser asking first) keep other sites from acting with an operator's session.
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.SlidingExpiration = true;
                o.Events.OnRedirectToLogin = context => Refuse(context, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = context => Refuse(context, StatusCodes.Status403Forbidden);
            })
            .AddScheme<AuthenticationSchemeOptions, LocalOperator>(LocalScheme, null);
        services.AddOptions<AuthenticationOptions>().Configure<IOptions<HmiOptions>>((o, hmi) =>
            o.DefaultScheme = hmi.Value.LoginRequired ? CookieAuthenticationDefaults.AuthenticationScheme : LocalScheme);
        services.AddOptions<CookieAuthenticationOptions>(CookieAuthenticationDefaults.AuthenticationScheme).Configure<IOptions<HmiOptions>>((o, hmi) =>
        {
            o.ExpireTimeSpan = TimeSpan.FromHours(hmi.Value.SessionHours);
            // SameAsRequest follows https as the browser sees it once a trusted proxy's X-Forwarded-Proto is read.
            o.Cookie.SecurePolicy = hmi.Value.SecureCookies ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
        });
        // Forwarded headers only from the configured proxies: the defaults would also believe any loopback client.
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<HmiOptions>>((o, hmi) =>
        {
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var proxy in hmi.Value.TrustedProxies)
                if (IPAddress.TryParse(proxy, out var address)) o.KnownProxies.Add(address);
            o.ForwardedHeaders = o.KnownProxies.Count > 0
                ? ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost
                : ForwardedHeaders.None;
        });
        services.AddSingleton<LoginBackoff>();
        services.AddSingleton<RequestGuard>();

        // Session cookies stay valid across a daemon restart: the keys that sign them live in the state folder (never in
        // a home directory, which a service may not have). They are stored unencrypted, protected by that folder's
        // permissions (docs/hmi.md), so data protection's warning saying so at every new key is only noise in the journal.
        services.AddDataProtection().SetApplicationName("defect-inspector");
        services.AddOptions<KeyManagementOptions>().Configure<IOptions<StorageOptions>, ILoggerFactory>((o, storage, loggers) =>
            o.XmlRepository = new FileSystemXmlRepository(new DirectoryInfo(Path.Combine(storage.Value.ResolvedPath, "hmi-keys")), loggers));
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection.KeyManagement.XmlKeyManager", LogLevel.Error);
        services.AddAuthorizationBuilder()
            .AddPolicy(OperatorPolicy, p => p.RequireRole(HmiRoles.Operator, HmiRoles.Engineer))
            .AddPolicy(EngineerPolicy, p => p.RequireRole(HmiRoles.Engineer));
        // Guessing passwords: ten tries a minute per address (the browser's, behind Hmi:TrustedProxies), and LoginBackoff per name.
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(LoginLimit, context => RateLimitPartition.GetFixedWindowLimiter(context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = 10, Window = TimeSpan.FromMinutes(1) }));
        });
    }

    public static ClaimsPrincipal Principal(string name, string role, string scheme) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, name), new Claim(ClaimTypes.Role, role)], scheme));

    public static UserView View(ClaimsPrincipal user, bool loginRequired) =>
        new(user.Identity?.Name ?? "", user.FindFirst(ClaimTypes.Role)?.Value ?? "", loginRequired);

    private static Task Refuse(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        context.Response.StatusCode = status;
        return Task.CompletedTask;
    }

    /// <summary>The loopback station without users: everyone at the screen is operator "local".</summary>
    private sealed class LocalOperator(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
            Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(Principal(LocalUser, HmiRoles.Operator, LocalScheme), LocalScheme)));
    }
}
