using Polly;
using Polly.Retry;

namespace DefectInspector.Host.Hosting;

/// <summary>The daemon's one way of waiting out a failure that will pass (a camera away, a full disk): it never gives up.</summary>
internal static class Backoff
{
    /// <summary>Retries <typeparamref name="TException"/> for ever, exponentially from <paramref name="first"/> up to <paramref name="max"/>, with jitter.</summary>
    public static ResiliencePipeline<T> Forever<T, TException>(TimeSpan first, TimeSpan max, Func<OnRetryArguments<T>, ValueTask> onRetry)
        where TException : Exception =>
        new ResiliencePipelineBuilder<T>().AddRetry(new RetryStrategyOptions<T>
        {
            ShouldHandle = new PredicateBuilder<T>().Handle<TException>(),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = first,
            MaxDelay = max,
            MaxRetryAttempts = int.MaxValue,
            OnRetry = onRetry,
        }).Build();
}
