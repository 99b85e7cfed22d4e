package dev.graft.cli;

import dev.graft.op.MergeOperator;
import dev.graft.op.OperatorSpec;
import dev.graft.op.Operators;
import dev.graft.op.ParamSpec;
import java.io.PrintWriter;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code graft operators [NAME]}. */
@Command(
    name = "operators",
    mixinStandardHelpOptions = true,
    description = "List merge operators (merge_method values) with their parameters and references.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:success", "2:unknown operator"})
final class OperatorsCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "NAME", arity = "0..1", description = "Show only this operator.")
  String name;

  @Override
  public Integer call() {
    PrintWriter o = spec.commandLine().getOut();
    Operators ops = Operators.builtIn();
    Collection<MergeOperator> list;
    if (name != null) {
      try {
        list = List.of(ops.get(name));
      } catch (IllegalArgumentException e) {
        throw new GraftCommand.UsageException(e.getMessage());
      }
    } else {
      list = ops.all();
    }
    for (MergeOperator op : list) {
      OperatorSpec s = op.spec();
      o.printf("%s — %s: %s%n", s.name(), s.title(), s.summary());
      String base = switch (s.base()) {
        case REQUIRED -> "base_model required";
        case ONE_OF_INPUTS -> "base_model required, one of the two models";
        case OPTIONAL -> "base_model optional";
        case UNUSED -> "no base_model";
      };
      String count = s.minInputs() == s.maxInputs() ? String.valueOf(s.minInputs())
          : s.maxInputs() == Integer.MAX_VALUE ? s.minInputs() + "+" : s.minInputs() + "-" + s.maxInputs();
      o.printf("    %s; %s models; %s%n", base, count, s.paper());
      for (ParamSpec p : s.params()) {
        o.printf("    %-18s %s%n", p.name(), p.summary());
        o.printf("    %-18s %s%n", "", p.description());
      }
      o.println();
    }
    o.flush();
    return 0;
  }
}
