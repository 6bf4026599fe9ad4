using System.Net.Sockets;

namespace DefectInspector.Tests.Shared;

/// <summary>The receive loop the in-test servers share.</summary>
public static class Loopback
{
    /// <summary>
    /// Hands each thing received (a connection, a packet) to <paramref name="handle"/> until <paramref name="stop"/>
    /// fires or the socket is closed, which is how the servers shut down.
    /// </summary>
    public static async Task Receive<T>(Func<CancellationToken, ValueTask<T>> receive, Action<T> handle, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            T received;
            try
            {
                received = await receive(stop);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            handle(received);
        }
    }
}
