// TorchSharp's random generator is process-wide: tests that seed it must not interleave, or their models and
// inputs change from run to run.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
