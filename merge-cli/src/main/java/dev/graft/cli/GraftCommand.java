package dev.graft.cli;

import dev.graft.InvalidInputException;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code graft}: the root command. */
@Command(
    name = "graft",
    mixinStandardHelpOptions = true,
    versionProvider = GraftCommand.Version.class,
    description = "Merge and evolve neural networks directly on their weight tensors.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:success", "1:failure at run time", "2:bad input (malformed file, wrong recipe or usage)"},
    footer = {"", "Run 'graft help COMMAND' for a command's options."})
public final class GraftCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = {"-v", "--verbose"}, description = "Show stack traces of errors.", scope = CommandLine.ScopeType.INHERIT)
  boolean verbose;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** The version from the jar manifest (or "dev" when run from classes). */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = GraftCommand.class.getPackage().getImplementationVersion();
      return new String[] {"graft " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ")"};
    }
  }

  /** The subcommands, in the order the usage lists them. */
  static final List<Class<?>> SUBCOMMANDS = List.of(
      MergeCommand.class, ValidateCommand.class, OperatorsCommand.class, InspectCommand.class, ConvertCommand.class,
      SynthCommand.class, LogitsCommand.class, TrainCommand.class, EvalCommand.class, FisherCommand.class, InterpolateCommand.class,
      AlignCommand.class, EvolveCommand.class, QuickstartCommand.class, CommandLine.HelpCommand.class);

  /** A command line with every subcommand and Graft's error handling (see {@link #commandLine(String...)}). */
  public static CommandLine commandLine() {
    return commandLine(new String[0]);
  }

  /**
   * A command line with Graft's error handling: messages, not stack traces; exit 2 for bad input, 1 otherwise.
   *
   * <p>When {@code args} name a subcommand (its first word that is not an option), only that subcommand is
   * registered: picocli builds each command's model by reflection, and building all of them took about 0.4 s of
   * every start. Without a subcommand name (usage, {@code help}, a misspelt command) all of them are registered, and
   * none for {@code --version}.
   */
  public static CommandLine commandLine(String... argv) {
    CommandLine cl = new CommandLine(new GraftCommand());
    Class<?> only = null;
    boolean version = false;
    boolean help = false;
    boolean word = false;
    for (String a : argv) {
      version |= a.equals("-V") || a.equals("--version");
      help |= a.equals("-h") || a.equals("--help");
      if (!a.startsWith("-")) {
        word = true;
        for (Class<?> c : SUBCOMMANDS) {
          if (c != CommandLine.HelpCommand.class && c.getAnnotation(Command.class).name().equals(a)) {
            only = c;
          }
        }
        break;
      }
    }
    boolean versionOnly = version && !help && !word;
    for (Class<?> c : SUBCOMMANDS) {
      if (!versionOnly && (only == null || c == only)) {
        cl.addSubcommand(c);
      }
    }
    cl.setExecutionExceptionHandler((ex, line, parse) -> {
      PrintWriter err = line.getErr();
      boolean verbose = anyVerbose(parse);
      boolean badInput = ex instanceof InvalidInputException || ex instanceof UsageException;
      err.println("error: " + (ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage()));
      if (verbose) {
        ex.printStackTrace(err);
      } else if (!badInput) {
        err.println("(run with -v for details)");
      }
      err.flush();
      return badInput ? 2 : 1;
    });
    cl.setParameterExceptionHandler((ex, args) -> {
      CommandLine line = ex.getCommandLine();
      PrintWriter err = line.getErr();
      err.println("error: " + ex.getMessage());
      CommandLine.UnmatchedArgumentException.printSuggestions(ex, err); // "Did you mean: convert?" for a misspelt command
      err.println("(see 'graft " + (line.getCommandName().equals("graft") ? "" : line.getCommandName() + " ") + "--help')");
      err.flush();
      return 2;
    });
    return cl;
  }

  private static boolean anyVerbose(CommandLine.ParseResult p) {
    for (CommandLine.ParseResult r = p; r != null; r = r.subcommand()) {
      if (r.hasMatchedOption("-v")) {
        return true;
      }
    }
    return false;
  }

  /** A bad option value detected by a command (exit code 2). */
  static final class UsageException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }

  public static void main(String[] args) {
    int code;
    try {
      code = commandLine(args).execute(args);
    } catch (OutOfMemoryError e) {
      // Not an exception, so picocli's handler does not see it: a message instead of a stack trace.
      System.err.println("error: out of memory (" + e.getMessage() + "). Give the JVM more: GRAFT_JAVA_OPTS='-Xmx"
          + Math.max(2, 2 * Runtime.getRuntime().maxMemory() >> 30) + "g' ./graft ..., or lower --threads / --memory where the command has them");
      code = 1;
    }
    System.exit(code);
  }
}
