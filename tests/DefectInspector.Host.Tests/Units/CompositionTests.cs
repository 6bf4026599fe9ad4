using DefectInspector.Host.Hosting;
using DefectInspector.Host.Options;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace DefectInspector.Host.Tests.Units;

/// <summary>How the daemon is put together: the container composes the stages; Host runs models but never trains them.</summary>
public sealed class CompositionTests
{
    [Fact]
    public void The_daemon_assembly_references_neither_torchsharp_nor_training()
    {
        var references = typeof(DaemonHost).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.Contains("DefectInspector.Inference", references);
        Assert.DoesNotContain("TorchSharp", references);
        Assert.DoesNotContain("DefectInspector.Training", references);
    }

    [Fact]
    public void Without_a_default_model_an_empty_model_path_is_refused_naming_the_key()
    {
        using var folder = new TempFolder("di-composition-");
        var loader = new ModelLoader(Microsoft.Extensions.Options.Options.Create(new ModelOptions { Path = "" }),
            Microsoft.Extensions.Options.Options.Create(new StorageOptions { Path = folder.Path }), NullLogger<ModelLoader>.Instance);
        var refusal = Assert.Throws<DaemonStartException>(() => loader.Load(CancellationToken.None));
        Assert.StartsWith("Model:Path is empty", refusal.Message);
    }

    [Fact]
    public void The_stages_start_in_line_order_and_so_stop_capture_first_and_the_connections_last()
    {
        using var folder = new TempFolder("di-composition-");
        using var host = DaemonHost.Build(null, [$"--Storage:Path={folder.Path}", "--Health:Url=", "--Hmi:Url="]);
        var stages = host.Services.GetServices<IHostedService>().Select(s => s.GetType().Name)
            .Where(n => n is "EmbeddedBrokerService" or "ModelService" or "BrokerService" or "StatusService" or "DeliveryService" or "InspectionService" or "CaptureService")
            .ToList();
        Assert.Equal(["EmbeddedBrokerService", "ModelService", "BrokerService", "StatusService", "DeliveryService", "InspectionService", "CaptureService"], stages);
    }
}
