using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace DefectInspector.Host.Hosting;

/// <summary>
/// A circuit breaker in front of an operation that keeps failing: after <paramref name="Failures"/> failed attempts
/// within <paramref name="Window"/> and none that succeeded, no attempt is made for <paramref name="BreakFor"/>; then
/// one (half-open), which closes the circuit when it succeeds and opens it again when it fails.
/// <paramref name="Opened"/> gets the failure that opened it and when the next attempt is due.
/// </summary>
internal sealed record CircuitBreak(int Failures, TimeSpan Window, TimeSpan BreakFor, Action<Exception?, DateTimeOffset> Opened, Action HalfOpened, Action Closed);

/// <summary>The daemon's one way of waiting out a failure that will pass (a camera away, a full disk): it never gives up.</summary>
internal static class Backoff
{
    /// <summary>
    /// Retries <typeparamref name="TException"/> for ever, exponentially from <paramref name="first"/> up to
    /// <paramref name="max"/>, with jitter. With a <paramref name="circuit"/>, a run of failures opens it and the retry
    /// then waits for the circuit's one attempt instead of knocking on it; <paramref name="onRetry"/> hears of the
    /// failures the backoff waits out, <see cref="CircuitBreak.Opened"/> of those that open the circuit.
    /// </summary>
    public static ResiliencePipeline<T> Forever<T, TException>(TimeSpan first, TimeSpan max, Func<OnRetryArguments<T>, ValueTask> onRetry,
        CircuitBreak? circuit = null, TimeProvider? time = null)
        where TException : Exception
    {
        var clock = time ?? TimeProvider.System;
        var builder = new ResiliencePipelineBuilder<T> { TimeProvider = clock };
        // Only the breaker's own callbacks write this, and they run inside the attempt that the retry then sees.
        DateTimeOffset? openUntil = null;
        TimeSpan? WaitForCircuit() => openUntil is { } until ? TimeSpan.FromTicks(Math.Max(0, (until - clock.GetUtcNow()).Ticks)) : null;

        builder.AddRetry(new RetryStrategyOptions<T>
        {
            ShouldHandle = new PredicateBuilder<T>().Handle<TException>().Handle<BrokenCircuitException>(),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = first,
            MaxDelay = max,
            MaxRetryAttempts = int.MaxValue,
            DelayGenerator = _ => ValueTask.FromResult(WaitForCircuit()),
            OnRetry = args => openUntil is null ? onRetry(args) : default,
        });
        if (circuit is not null)
        {
            builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<T>
            {
                ShouldHandle = new PredicateBuilder<T>().Handle<TException>(),
                FailureRatio = 1.0,
                MinimumThroughput = circuit.Failures,
                SamplingDuration = circuit.Window,
                BreakDuration = circuit.BreakFor,
                OnOpened = args =>
                {
                    openUntil = clock.GetUtcNow() + args.BreakDuration;
                    circuit.Opened(args.Outcome.Exception, openUntil.Value);
                    return default;
                },
                OnHalfOpened = _ =>
                {
                    openUntil = null;
                    circuit.HalfOpened();
                    return default;
                },
                OnClosed = _ =>
                {
                    circuit.Closed();
                    return default;
                },
            });
        }
        return builder.Build();
    }
}
