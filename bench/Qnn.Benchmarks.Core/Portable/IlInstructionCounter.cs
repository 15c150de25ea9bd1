using Mono.Cecil;
using Mono.Cecil.Cil;
using Mono.Cecil.Rocks;

namespace Qnn.Benchmarks.Portable;

/// <summary>
/// Counts the IL instructions a method executes, exactly: rewrites a copy of an assembly so that every basic block
/// of every selected method first adds its own instruction count to a static counter (a type added to the copy,
/// <see cref="CounterTypeName"/>.<see cref="CounterFieldName"/>). A block runs whole once entered (no exception is
/// thrown on the measured path), so the counter is the number of original IL instructions executed; the counting
/// instructions themselves are not counted. This is the cost on an interpreter that executes IL one instruction at a
/// time (nanoCLR); a call into the base library (Array.Clear, Array.Copy: native on nanoCLR) counts as its one call.
/// </summary>
public static class IlInstructionCounter
{
    public const string CounterTypeName = "QnnIlInstructionCounter";
    public const string CounterFieldName = "Executed";

    /// <summary>Writes an instrumented copy of <paramref name="assemblyPath"/> to <paramref name="outputPath"/>;
    /// only methods of types <paramref name="include"/> accepts count. Returns the number of methods instrumented.</summary>
    public static int Instrument(string assemblyPath, string outputPath, Func<TypeDefinition, bool> include)
    {
        var resolver = new DefaultAssemblyResolver();
        resolver.AddSearchDirectory(Path.GetDirectoryName(Path.GetFullPath(assemblyPath))!);
        resolver.AddSearchDirectory(AppContext.BaseDirectory);
        using var assembly = AssemblyDefinition.ReadAssembly(assemblyPath, new ReaderParameters { AssemblyResolver = resolver, ReadSymbols = false });
        ModuleDefinition module = assembly.MainModule;
        var counterType = new TypeDefinition("", CounterTypeName,
            TypeAttributes.Public | TypeAttributes.Abstract | TypeAttributes.Sealed | TypeAttributes.Class, module.TypeSystem.Object);
        var counter = new FieldDefinition(CounterFieldName, FieldAttributes.Public | FieldAttributes.Static, module.TypeSystem.Int64);
        counterType.Fields.Add(counter);
        int methods = 0;
        foreach (TypeDefinition type in module.GetTypes().ToList())
        {
            if (!include(type)) continue;
            foreach (MethodDefinition method in type.Methods)
            {
                if (!method.HasBody || method.Body.Instructions.Count == 0) continue;
                CountBlocks(method.Body, counter);
                methods++;
            }
        }
        module.Types.Add(counterType);
        assembly.Write(outputPath);
        return methods;
    }

    /// <summary>The block leaders of a body: its first instruction, every branch target, every instruction after a
    /// branch, return or throw, and every start of a protected region, handler or filter.</summary>
    public static HashSet<Instruction> Leaders(MethodBody body)
    {
        var ins = body.Instructions;
        var leaders = new HashSet<Instruction> { ins[0] };
        for (int i = 0; i < ins.Count; i++)
        {
            Instruction op = ins[i];
            if (op.Operand is Instruction target) leaders.Add(target);
            if (op.Operand is Instruction[] targets) foreach (var t in targets) leaders.Add(t);
            var flow = op.OpCode.FlowControl;
            if ((flow == FlowControl.Branch || flow == FlowControl.Cond_Branch || flow == FlowControl.Return || flow == FlowControl.Throw) && i + 1 < ins.Count)
                leaders.Add(ins[i + 1]);
        }
        foreach (var h in body.ExceptionHandlers)
        {
            foreach (var at in new[] { h.TryStart, h.TryEnd, h.HandlerStart, h.HandlerEnd, h.FilterStart })
                if (at != null) leaders.Add(at);
        }
        return leaders;
    }

    private static void CountBlocks(MethodBody body, FieldDefinition counter)
    {
        body.SimplifyMacros();
        var original = body.Instructions.ToList();
        var leaders = Leaders(body);
        // Instructions from each leader to the next one.
        var lengths = new Dictionary<Instruction, int>();
        Instruction? current = null;
        foreach (var op in original)
        {
            if (leaders.Contains(op)) { current = op; lengths[current] = 0; }
            lengths[current!]++;
        }
        var il = body.GetILProcessor();
        var entry = new Dictionary<Instruction, Instruction>();
        foreach (var (leader, length) in lengths)
        {
            var add = new[]
            {
                il.Create(OpCodes.Ldsfld, counter), il.Create(OpCodes.Ldc_I4, length), il.Create(OpCodes.Conv_I8),
                il.Create(OpCodes.Add), il.Create(OpCodes.Stsfld, counter),
            };
            foreach (var a in add) il.InsertBefore(leader, a);
            entry[leader] = add[0];
        }
        // Branches, switches and regions that named a leader now enter through its counting instructions.
        foreach (var op in original)
        {
            if (op.Operand is Instruction target && entry.TryGetValue(target, out var e)) op.Operand = e;
            if (op.Operand is Instruction[] targets)
                for (int t = 0; t < targets.Length; t++)
                    if (entry.TryGetValue(targets[t], out var te)) targets[t] = te;
        }
        foreach (var h in body.ExceptionHandlers)
        {
            if (h.TryStart != null && entry.TryGetValue(h.TryStart, out var a)) h.TryStart = a;
            if (h.TryEnd != null && entry.TryGetValue(h.TryEnd, out var b)) h.TryEnd = b;
            if (h.HandlerStart != null && entry.TryGetValue(h.HandlerStart, out var c)) h.HandlerStart = c;
            if (h.HandlerEnd != null && entry.TryGetValue(h.HandlerEnd, out var d)) h.HandlerEnd = d;
            if (h.FilterStart != null && entry.TryGetValue(h.FilterStart, out var f)) h.FilterStart = f;
        }
        body.OptimizeMacros();
    }
}
