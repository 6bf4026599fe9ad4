using Microsoft.Extensions.Hosting;

namespace DefectInspector.Host.Hosting;

/// <summary>
/// A background service that ends quietly when stopped. `run` starts the host with SIGTERM's token, and the host links
/// that token (and, during start-up, its own stopping) into each service's stopping token before it has begun to stop
/// them; a service that then throws the cancellation on is logged as crashed, with its stack, after every SIGTERM and
/// every failed start.
/// </summary>
internal abstract class StoppableService : BackgroundService
{
    protected sealed override async Task ExecuteAsync(CancellationToken stopping)
    {
        try
        {
            await RunAsync(stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopped: no failure.
        }
    }

    /// <summary>The service's work until <paramref name="stopping"/> fires; may throw its cancellation.</summary>
    protected abstract Task RunAsync(CancellationToken stopping);
}
