package dev.graft.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.cli.GraftCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** graft evolve --cluster with the Spark module on the class path (as ./graft runs it). */
class ClusterCliTest {
  @TempDir Path tmp;

  record Run(int code, String out, String err) {}

  static Run graft(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = GraftCommand.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void evolvesOnLocalSparkAndRefusesAMasterThatDoesNotAnswerBeforeLoadingAnything() throws Exception {
    Path recipe = ClusterEvolutionTest.digitsRecipe(tmp.resolve("digits"));
    Run ok = graft("evolve", recipe.toString(), "-o", tmp.resolve("run").toString(), "-q", "--cluster", "local[2]", "--spark-conf",
        "spark.task.maxFailures=2");
    assertThat(ok.code()).as(ok.err()).isZero();
    assertThat(ok.err()).contains("scoring on the Spark cluster local[2]");
    assertThat(ok.out()).contains("tiny-digits: 32 evaluations");
    assertThat(Files.readString(tmp.resolve("run/run.yml"))).contains("spark.task.maxFailures: '2'");
    // the same run resumed without the cluster: where candidates are scored is not part of the run
    Run more = graft("evolve", "--resume", "-o", tmp.resolve("run").toString(), "-q", "--evaluations", "40");
    assertThat(more.code()).as(more.err()).isZero();

    int port = StandaloneCluster.freePort(); // nothing listens there
    Path out = tmp.resolve("nowhere");
    Run down = graft("evolve", recipe.toString(), "-o", out.toString(), "--cluster", "spark://127.0.0.1:" + port);
    assertThat(down.code()).isEqualTo(2);
    assertThat(down.err()).contains("no Spark master answers at 127.0.0.1:" + port, "bin/graft-spark master").doesNotContain("Exception");
    assertThat(out).doesNotExist();
    // a run whose recipe names a cluster that is gone continues in this process
    Path gone = tmp.resolve("gone.yml");
    Files.writeString(gone, Files.readString(recipe) + "cluster: spark://127.0.0.1:" + port + "\n");
    Files.copy(recipe.resolveSibling("digits.yaml"), tmp.resolve("digits.yaml"));
    Run here = graft("evolve", gone.toString(), "-o", tmp.resolve("here").toString(), "-q", "--no-cluster");
    assertThat(here.code()).as(here.err()).isZero();
    assertThat(here.err()).doesNotContain("Spark cluster");
  }
}
