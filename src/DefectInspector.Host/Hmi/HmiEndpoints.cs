using System.Globalization;
using System.Net.ServerSentEvents;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using DefectInspector.Host.Health;
using DefectInspector.Host.Hosting;
using DefectInspector.Host.Options;
using DefectInspector.Host.Publish;
using DefectInspector.Publish;
using DefectInspector.Publish.Contracts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Hmi;

/// <summary>
/// The operator review station on Hmi:Url: the page under /hmi/ and its JSON API under /hmi/api/ (docs/hmi.md).
/// </summary>
internal sealed class HmiEndpoints(
    IOptions<HmiOptions> options, ReviewStore reviews, LiveFeed feed, CameraStatusBoard cameras, MqttPublisher broker, StationIdentity station,
    PipelineHealth pipeline, LoginBackoff backoff, RequestGuard guard, IHostApplicationLifetime lifetime, ILogger<HmiEndpoints> logger) : IWebEndpoints
{
    private const int AuditLines = 500;

    public string Listener => $"{HmiOptions.Section}:{nameof(HmiOptions.Url)}";

    /// <summary>Registers the HMI when Hmi:Url is set: its options, access control, review store, exporter and live feed.</summary>
    public static void Add(WebApplicationBuilder builder)
    {
        var services = builder.Services;
        DaemonHost.AddValidated<HmiOptions, HmiOptionsValidator>(services, builder.Configuration, HmiOptions.Section);
        string url = builder.Configuration[$"{HmiOptions.Section}:{nameof(HmiOptions.Url)}"] ?? HmiOptions.DefaultUrl;
        if (string.IsNullOrWhiteSpace(url)) return;

        HmiAccess.Add(builder);
        services.AddSingleton(sp => ReviewStore.Open(Path.Combine(sp.GetRequiredService<IOptions<StorageOptions>>().Value.ResolvedPath, ReviewStore.FolderName),
            sp.GetRequiredService<IOptions<HmiOptions>>().Value.MaxQueuedParts, sp.GetRequiredService<ILogger<ReviewStore>>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp =>
        {
            var hmi = sp.GetRequiredService<IOptions<HmiOptions>>().Value;
            return new FeedbackFolder(hmi.FeedbackPath.Length > 0 ? hmi.FeedbackPath
                : Path.Combine(sp.GetRequiredService<IOptions<StorageOptions>>().Value.ResolvedPath, "feedback"));
        });
        services.AddSingleton<IReviewSink, ReviewQueueSink>();
        services.AddSingleton(sp => new LiveFeed(sp.GetRequiredService<IOptions<HmiOptions>>().Value.LiveFps));
        services.AddSingleton<ILiveView>(sp => sp.GetRequiredService<LiveFeed>());
        services.AddHostedService<ReviewExporter>();
        services.AddHostedService<HmiFeedService>();
        services.AddSingleton<IWebEndpoints, HmiEndpoints>();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, HmiJson.Default));
    }

    public void Map(IEndpointRouteBuilder endpoints)
    {
        var hmi = endpoints.MapGroup("").AddEndpointFilter(guard);
        hmi.MapGet("/", () => Results.Redirect("/hmi/"));
        HmiAssets.Map(hmi.MapGroup("/hmi"), options.Value.Language);

        var api = hmi.MapGroup("/hmi/api");
        api.MapGet("/me", Me);
        api.MapPost("/login", LoginAsync).RequireRateLimiting(HmiAccess.LoginLimit);
        api.MapPost("/logout", (Delegate)LogoutAsync);

        var operators = api.MapGroup("").RequireAuthorization(HmiAccess.OperatorPolicy);
        operators.MapGet("/events", Events);
        operators.MapGet("/live/{camera}", Live);
        operators.MapGet("/queue", (int? limit) => TypedResults.Ok(reviews.Queue(Math.Clamp(limit ?? 100, 1, 1000)).Select(PartView.From).ToList()));
        operators.MapGet("/parts/{id}", (string id) => reviews.Find(id) is { } part ? Results.Ok(PartView.From(part)) : NotFound(id));
        operators.MapGet("/parts/{id}/image", (string id) => PartFile(id, overlay: false));
        operators.MapGet("/parts/{id}/overlay", (string id) => PartFile(id, overlay: true));
        operators.MapPost("/parts/{id}/review", Decide);
        operators.MapGet("/history", History);

        var engineers = api.MapGroup("").RequireAuthorization(HmiAccess.EngineerPolicy);
        engineers.MapGet("/model", Model);
        engineers.MapGet("/audit", () => TypedResults.Ok(reviews.AuditTrail(AuditLines)));
    }

    private IResult Me(HttpContext context) =>
        context.User.Identity?.IsAuthenticated == true
            ? Results.Ok(HmiAccess.View(context.User, options.Value.LoginRequired))
            : Results.Json(new UserView("", "", true), HmiJson.Default.UserView, statusCode: StatusCodes.Status401Unauthorized);

    private async Task<IResult> LoginAsync(HttpContext context, LoginRequest request)
    {
        var hmi = options.Value;
        if (!hmi.LoginRequired) return Results.Ok(HmiAccess.View(context.User, loginRequired: false));
        string name = request.User?.Trim() ?? "";
        var address = context.Connection.RemoteIpAddress;
        // Checked before the name is written anywhere: the audit trail and the log keep only names a user could have.
        if (!HmiUserOptions.IsValidName(name))
        {
            reviews.Audit("(invalid name)", "login-failed", detail: address?.ToString());
            logger.LogWarning("HMI login refused: a user name of {Length} characters that no user can have, from {Address}", name.Length, address);
            return Results.BadRequest(new ErrorView($"user: expected {HmiUserOptions.NameRule}"));
        }
        if (backoff.Wait(name) is { Ticks: > 0 } wait)
        {
            int seconds = (int)Math.Ceiling(wait.TotalSeconds);
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            logger.LogWarning("HMI login of {User} from {Address} refused unchecked: {Failures} or more failed logins, {Seconds} s to wait", name, address, LoginBackoff.FreeFailures, seconds);
            return Results.Json(new ErrorView($"user '{name}': too many failed logins; try again in {seconds} s"), HmiJson.Default.ErrorView, statusCode: StatusCodes.Status429TooManyRequests);
        }
        var user = hmi.Users.FirstOrDefault(u => string.Equals(u.Name, name, StringComparison.OrdinalIgnoreCase));
        if (!Passwords.Verify(user?.PasswordHash, request.Password ?? ""))
        {
            backoff.Failed(name);
            reviews.Audit(name, "login-failed", detail: address?.ToString());
            logger.LogWarning("HMI login refused for user {User} from {Address}", name, address);
            return Results.Json(new ErrorView("unknown user or wrong password"), HmiJson.Default.ErrorView, statusCode: StatusCodes.Status401Unauthorized);
        }
        backoff.Succeeded(name);
        var principal = HmiAccess.Principal(user!.Name, user.Role, CookieAuthenticationDefaults.AuthenticationScheme);
        await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, principal);
        reviews.Audit(user.Name, "login", detail: address?.ToString());
        logger.LogInformation("HMI login: {User} ({Role}) from {Address}", user.Name, user.Role, address);
        return Results.Ok(HmiAccess.View(principal, loginRequired: true));
    }

    private async Task<IResult> LogoutAsync(HttpContext context)
    {
        if (!options.Value.LoginRequired) return Results.NoContent();
        if (context.User.Identity?.IsAuthenticated == true) reviews.Audit(context.User.Identity.Name ?? "", "logout");
        await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return Results.NoContent();
    }

    private IResult Events(HttpContext context)
    {
        var views = cameras.All.OrderBy(c => c.Camera, StringComparer.Ordinal)
            .Select(c => new CameraView(c.Camera, c.State, c.Reason, feed.Latest.GetValueOrDefault(c.Camera))).ToList();
        var hello = new HelloEvent(station.Station, HmiAccess.View(context.User, options.Value.LoginRequired), views, broker.IsConnected, reviews.QueueLength);
        var first = new SseItem<string>(JsonSerializer.Serialize(hello, HmiJson.Default.HelloEvent), "hello");
        // Also ended when the daemon stops: the web server waits for open requests up to the shutdown timeout (drain +
        // delivery + 15 s), so the station screen's stream alone held every stop that long.
        var ends = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        context.Response.RegisterForDispose(ends);
        return TypedResults.ServerSentEvents(feed.Subscribe(first, ends.Token));
    }

    private IResult Live(string camera) =>
        feed.Frame(camera) is { } frame
            ? Results.File(frame.Jpeg, OutgoingMessages.JpegContentType, entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{frame.VerdictId}\""))
            : Results.NotFound(new ErrorView($"no live image of camera '{camera}' yet"));

    private IResult PartFile(string id, bool overlay)
    {
        var part = reviews.Find(id);
        string? file = part is null ? null : overlay ? part.OverlayFile : part.ImageFile;
        if (file is null || !File.Exists(file)) return NotFound(id);
        // A part's files never change once stored: let the browser keep them.
        return Results.File(file, overlay ? OutgoingMessages.JpegContentType : "image/png", lastModified: null,
            entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{id}-{(overlay ? "o" : "i")}\""));
    }

    private IResult Decide(string id, DispositionRequest request, ClaimsPrincipal user)
    {
        if (request.Disposition is not { } disposition || !Dispositions.All.Contains(disposition))
            return Results.BadRequest(new ErrorView($"disposition '{request.Disposition}': expected {string.Join(", ", Dispositions.All)}"));
        string? comment = string.IsNullOrWhiteSpace(request.Comment) ? null : request.Comment.Trim();
        if (comment is { Length: > 500 })
            return Results.BadRequest(new ErrorView($"comment: expected at most 500 characters, got {comment.Length}"));
        try
        {
            var decided = reviews.Decide(id, disposition, comment, user.Identity?.Name ?? HmiAccess.LocalUser);
            logger.LogInformation("Part {VerdictId} reviewed: {Disposition} by {User}", id, disposition, decided.Review!.User);
            return Results.Ok(PartView.From(decided));
        }
        catch (ReviewRefusedException e)
        {
            return e.NotFound ? NotFound(id) : Results.Conflict(new ErrorView(e.Message));
        }
    }

    private IResult History(string? from, string? to, string? camera, string? verdict, string? disposition, int? limit)
    {
        if (!TryTime(from, out var start)) return Results.BadRequest(new ErrorView($"from '{from}': expected an ISO-8601 time, e.g. 2026-11-28T06:00:00Z"));
        if (!TryTime(to, out var end)) return Results.BadRequest(new ErrorView($"to '{to}': expected an ISO-8601 time, e.g. 2026-11-28T14:00:00Z"));
        var found = reviews.History(new HistoryQuery(start, end, camera, verdict, disposition, limit ?? 200));
        return Results.Ok(found.Select(PartView.From).ToList());
    }

    private IResult Model()
    {
        if (pipeline.Serving is not { } serving) return Results.Json(new ErrorView("the model is still loading"), HmiJson.Default.ErrorView, statusCode: StatusCodes.Status503ServiceUnavailable);
        var view = JsonSerializer.SerializeToNode(new ModelView(serving.Reference, serving.Method, serving.Layer, serving.Metadata.GoodClass), HmiJson.Default.ModelView)!.AsObject();
        view["bundle"] = JsonNode.Parse(serving.Metadata.ToJson());
        return Results.Text(view.ToJsonString(), "application/json");
    }

    private static bool TryTime(string? text, out DateTimeOffset? time)
    {
        time = null;
        if (string.IsNullOrWhiteSpace(text)) return true;
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)) return false;
        time = parsed;
        return true;
    }

    private static IResult NotFound(string id) => Results.NotFound(new ErrorView($"part {id} is not in the review store"));
}
