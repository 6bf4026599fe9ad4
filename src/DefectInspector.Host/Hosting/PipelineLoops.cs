using DefectInspector.Host.Health;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Host.Hosting;

/// <summary>
/// Runs the pipeline's long-lived loops. One that dies takes the daemon down (systemd restarts it) rather than idling
/// silently, and /healthz watches each by name.
/// </summary>
internal sealed class PipelineLoops(PipelineHealth health, IHostApplicationLifetime lifetime, ILogger<PipelineLoops> logger)
{
    public Task Run(string name, Func<CancellationToken, Task> body, CancellationToken stop)
    {
        var loop = Task.Run(async () =>
        {
            try
            {
                await body(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                logger.LogCritical(e, "Pipeline loop {Loop} failed; stopping the daemon", name);
                Environment.ExitCode = 1;
                lifetime.StopApplication();
                throw;
            }
        });
        health.Watch(name, loop);
        return loop;
    }

    /// <summary>
    /// Waits for a stopping stage at most <paramref name="timeout"/>; false when it did not finish in time (said in the
    /// log). A stage that ends with an error while stopping is logged, not thrown: the stop goes on.
    /// </summary>
    public async Task<bool> WaitAsync(Task task, TimeSpan timeout, string what)
    {
        try
        {
            await task.WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            logger.LogWarning("Stop: {Stage} did not finish within {Seconds} s", what, timeout.TotalSeconds);
            return false;
        }
        catch (Exception e) when (e is OperationCanceledException or System.Threading.Channels.ChannelClosedException)
        {
            return true;
        }
        catch (Exception e)
        {
            logger.LogError(e, "Stop: {Stage} ended with an error", what);
            return true;
        }
    }
}
