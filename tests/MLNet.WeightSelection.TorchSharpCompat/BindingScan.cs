using System.Reflection;
using System.Runtime.CompilerServices;

namespace MLNet.WeightSelection.TorchSharpCompat;

/// <summary>One method (or type) that did not bind, with the exception the runtime raised for it.</summary>
/// <param name="Member">The type or method that was being loaded or compiled, as <c>Type::Method(params)</c>.</param>
/// <param name="Exception">The exception's type name: MissingMethodException, TypeLoadException, ...</param>
/// <param name="Missing">The exception's message, which names the member the runtime could not find.</param>
public sealed record BindingFailure(string Member, string Exception, string Missing);

/// <summary>A generic type or method the scan could not close with concrete arguments, so it was not compiled.</summary>
/// <param name="Member">The open generic type or method.</param>
/// <param name="Reason">Why no instantiation was tried.</param>
public sealed record SkippedGeneric(string Member, string Reason);

/// <summary>What <see cref="BindingScan.Run"/> found in one assembly.</summary>
public sealed class BindingScanResult
{
    /// <summary>Types the loader returned (every type of the assembly, nested and compiler-generated ones too).</summary>
    public int TypesLoaded { get; init; }

    /// <summary>Methods and constructors that were JIT-compiled without an error.</summary>
    public int MethodsCompiled { get; init; }

    /// <summary>Methods with no IL of their own: abstract, P/Invoke, runtime-implemented (delegates).</summary>
    public int MethodsWithoutBody { get; init; }

    /// <summary>Generic methods and methods of generic types that were compiled for a closed instantiation.</summary>
    public int GenericInstantiationsCompiled { get; init; }

    /// <summary>The closed instantiations the generic types were compiled in.</summary>
    public IReadOnlyList<string> ClosedGenericTypes { get; init; } = Array.Empty<string>();

    /// <summary>Metadata tokens of the method definitions compiled at least once (in any instantiation).</summary>
    public IReadOnlySet<int> CompiledMethodTokens { get; init; } = new HashSet<int>();

    /// <summary>Every type load or JIT failure, one per failing member.</summary>
    public IReadOnlyList<BindingFailure> Failures { get; init; } = Array.Empty<BindingFailure>();

    /// <summary>Generic members left uncompiled, with the reason.</summary>
    public IReadOnlyList<SkippedGeneric> Skipped { get; init; } = Array.Empty<SkippedGeneric>();
}

/// <summary>
/// Loads every type of an assembly and JIT-compiles every method body it has, so that a reference to a member that the
/// assemblies resolved at run time no longer have (a TorchSharp signature that changed between 0.102 and 0.107, say)
/// shows up as the exception the runtime would throw on the first call, without running the method.
/// </summary>
/// <remarks>
/// Generic code is compiled per instantiation. Open generic types are closed with the arguments the assembly itself
/// uses for them (a trainer's base class <c>TorchSharpBaseTrainer&lt;uint, long&gt;</c>, found as a base type), or
/// failing that with arguments that satisfy the constraints (<see cref="object"/> for reference parameters, which
/// compiles the code shared by every reference instantiation). Generic methods are closed the same way; what cannot be
/// closed is listed in <see cref="BindingScanResult.Skipped"/>.
/// </remarks>
public static class BindingScan
{
    const BindingFlags Declared = BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic
        | BindingFlags.Instance | BindingFlags.Static;

    /// <summary>Loads and compiles all of <paramref name="assembly"/>.</summary>
    public static BindingScanResult Run(Assembly assembly)
    {
        var failures = new List<BindingFailure>();
        var skipped = new List<SkippedGeneric>();
        Type[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            types = e.Types.Where(t => t != null).ToArray()!;
            foreach (var loader in e.LoaderExceptions.Where(x => x != null))
                failures.Add(new BindingFailure(assembly.GetName().Name!, loader!.GetType().Name, loader.Message));
        }

        var usedInstantiations = UsedInstantiations(types);
        int compiled = 0, withoutBody = 0, generic = 0;
        var compiledTokens = new HashSet<int>();
        var closedGenericTypes = new List<string>();
        foreach (var type in types.OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            foreach (var closedType in Close(type, usedInstantiations, skipped))
            {
                if (closedType.IsGenericType) closedGenericTypes.Add(Describe(closedType));
                MethodBase[] methods;
                try
                {
                    methods = closedType.GetMethods(Declared).Cast<MethodBase>().Concat(closedType.GetConstructors(Declared)).ToArray();
                }
                catch (Exception e) when (IsBindingError(e))
                {
                    failures.Add(new BindingFailure(Describe(closedType), e.GetType().Name, e.Message));
                    continue;
                }
                foreach (var method in methods.OrderBy(Describe, StringComparer.Ordinal))
                {
                    if (!HasBody(method)) { withoutBody++; continue; }
                    // PrepareMethod takes the type's arguments, then the method's, in one array.
                    var instantiation = closedType.GenericTypeArguments.Select(a => a.TypeHandle).ToList();
                    if (method.IsGenericMethodDefinition)
                    {
                        var args = ArgumentsFor(method.GetGenericArguments());
                        if (args == null)
                        {
                            skipped.Add(new SkippedGeneric(Describe(method), "a type parameter's constraints are not met by object, int or float"));
                            continue;
                        }
                        instantiation.AddRange(args.Select(a => a.TypeHandle));
                    }
                    try
                    {
                        RuntimeHelpers.PrepareMethod(method.MethodHandle, instantiation.Count == 0 ? null : instantiation.ToArray());
                        compiled++;
                        compiledTokens.Add(method.MetadataToken);
                        if (closedType.IsGenericType || method.IsGenericMethodDefinition) generic++;
                    }
                    catch (Exception e) when (IsBindingError(e))
                    {
                        failures.Add(new BindingFailure(Describe(method), e.GetType().Name, e.Message));
                    }
                }
            }
        }
        return new BindingScanResult
        {
            TypesLoaded = types.Length,
            MethodsCompiled = compiled,
            MethodsWithoutBody = withoutBody,
            GenericInstantiationsCompiled = generic,
            CompiledMethodTokens = compiledTokens,
            ClosedGenericTypes = closedGenericTypes,
            Failures = failures,
            Skipped = skipped,
        };
    }

    /// <summary>The exceptions a stale reference produces; anything else is a bug in the scan and propagates.</summary>
    static bool IsBindingError(Exception e) => e is MissingMemberException or TypeLoadException or FileNotFoundException
        or FileLoadException or BadImageFormatException or InvalidProgramException;

    static bool HasBody(MethodBase method) =>
        !method.IsAbstract
        && (method.MethodImplementationFlags & MethodImplAttributes.CodeTypeMask) == MethodImplAttributes.IL
        && (method.Attributes & MethodAttributes.PinvokeImpl) == 0
        && (method.MethodImplementationFlags & MethodImplAttributes.InternalCall) == 0
        && method.GetMethodBody() != null;

    /// <summary>Closed instantiations of the assembly's own generic types that appear as base types of its types.</summary>
    static Dictionary<Type, List<Type[]>> UsedInstantiations(IEnumerable<Type> types)
    {
        var used = new Dictionary<Type, List<Type[]>>();
        foreach (var type in types)
            for (var b = type.BaseType; b != null; b = b.BaseType)
                if (b.IsGenericType && !b.ContainsGenericParameters)
                {
                    var list = used.TryGetValue(b.GetGenericTypeDefinition(), out var l) ? l : used[b.GetGenericTypeDefinition()] = new();
                    if (!list.Any(a => a.SequenceEqual(b.GenericTypeArguments))) list.Add(b.GenericTypeArguments);
                }
        return used;
    }

    /// <summary>The closed types to compile <paramref name="type"/>'s methods in: itself when not generic.</summary>
    static IEnumerable<Type> Close(Type type, Dictionary<Type, List<Type[]>> used, List<SkippedGeneric> skipped)
    {
        if (!type.IsGenericTypeDefinition) return new[] { type };
        var candidates = new List<Type[]>();
        // A nested type shares its outer type's parameters first (C# closures, iterators, nested classes).
        var outer = type.DeclaringType;
        int outerArity = outer?.IsGenericTypeDefinition == true ? outer.GetGenericArguments().Length : 0;
        var parameters = type.GetGenericArguments();
        if (used.TryGetValue(type, out var own)) candidates.AddRange(own);
        else if (outerArity > 0 && used.TryGetValue(outer!, out var outers))
        {
            foreach (var o in outers)
            {
                var rest = ArgumentsFor(parameters.Skip(outerArity).ToArray());
                if (rest != null) candidates.Add(o.Concat(rest).ToArray());
            }
        }
        if (candidates.Count == 0 && ArgumentsFor(parameters) is { } guessed) candidates.Add(guessed);
        var closed = new List<Type>();
        foreach (var args in candidates)
        {
            try { closed.Add(type.MakeGenericType(args)); }
            catch (ArgumentException) { }
        }
        if (closed.Count == 0)
            skipped.Add(new SkippedGeneric(Describe(type), "no instantiation satisfies its constraints"));
        return closed;
    }

    /// <summary>One argument per parameter that meets its constraints, trying object, int and float; null if none does.</summary>
    static Type[]? ArgumentsFor(Type[] parameters)
    {
        var args = new Type[parameters.Length];
        for (int i = 0; i < parameters.Length; i++)
        {
            var found = new[] { typeof(object), typeof(int), typeof(float) }.FirstOrDefault(c => Satisfies(parameters[i], c));
            if (found == null) return null;
            args[i] = found;
        }
        return args;
    }

    static bool Satisfies(Type parameter, Type candidate)
    {
        var attributes = parameter.GenericParameterAttributes;
        if ((attributes & GenericParameterAttributes.ReferenceTypeConstraint) != 0 && candidate.IsValueType) return false;
        if ((attributes & GenericParameterAttributes.NotNullableValueTypeConstraint) != 0 && !candidate.IsValueType) return false;
        if ((attributes & GenericParameterAttributes.DefaultConstructorConstraint) != 0 && candidate.GetConstructor(Type.EmptyTypes) == null && !candidate.IsValueType) return false;
        foreach (var constraint in parameter.GetGenericParameterConstraints())
        {
            if (constraint.ContainsGenericParameters) return false;
            if (!constraint.IsAssignableFrom(candidate)) return false;
        }
        return true;
    }

    /// <summary>A stable, readable name: <c>Namespace.Type::Method(ParamType, ...)</c>.</summary>
    public static string Describe(MethodBase method) =>
        $"{Describe(method.DeclaringType!)}::{method.Name}{(method.IsGenericMethod ? "<" + string.Join(",", method.GetGenericArguments().Select(a => a.Name)) + ">" : "")}({string.Join(", ", SafeParameters(method))})";

    /// <summary>A type's full name with its generic arguments spelled out.</summary>
    public static string Describe(Type type)
    {
        if (type.IsGenericParameter) return type.Name;
        string name = type.IsGenericType ? type.GetGenericTypeDefinition().FullName ?? type.Name : type.FullName ?? type.Name;
        return type.IsGenericType && !type.IsGenericTypeDefinition
            ? $"{name}[{string.Join(",", type.GenericTypeArguments.Select(Describe))}]"
            : name;
    }

    static IEnumerable<string> SafeParameters(MethodBase method)
    {
        try { return method.GetParameters().Select(p => p.ParameterType.Name); }
        catch (Exception e) when (IsBindingError(e)) { return new[] { "<unloadable parameters>" }; }
    }
}
