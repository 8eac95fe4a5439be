using MLNet.WeightSelection.Training;
using Xunit;

namespace MLNet.WeightSelection.Tests.Training;

/// <summary>The library fixes glibc's mmap threshold when it loads on Linux, unless the user set it.</summary>
public class NativeHeapPolicyTests
{
    [Fact]
    public void The_threshold_is_fixed_on_linux_unless_the_user_set_it()
    {
        bool userSet = Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null;
        bool glibc = OperatingSystem.IsLinux() && File.Exists("/lib/x86_64-linux-gnu/libc.so.6");
        if (glibc && !userSet) Assert.True(NativeHeapPolicy.Applied, "mallopt(M_MMAP_THRESHOLD) was not applied at load");
        if (!OperatingSystem.IsLinux() || userSet) Assert.False(NativeHeapPolicy.Applied);
    }
}
