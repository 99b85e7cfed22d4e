package dev.graft.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.graft.io.Checkpoint;
import dev.graft.io.Progress;
import dev.graft.op.Operators;
import dev.graft.plan.MergePlan;
import dev.graft.plan.MergeRunner;
import dev.graft.plan.ModelResolver;
import dev.graft.recipe.RecipeException;
import dev.graft.recipe.RecipeReader;
import dev.graft.synth.SynthSpec;
import dev.graft.synth.SyntheticCheckpoints;
import dev.graft.tensor.DType;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The downloader against a local HTTP server that answers as the hub does: {@code /api/models/{repo}/revision/{rev}}
 * with the commit and the file list, {@code /{repo}/resolve/{commit}/{file}} with the checksum in the etag, large
 * (LFS) files redirected to a storage host that honours range requests.
 */
class HubDownloaderTest {
  static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
  static final String TOKEN = "hf_test_token";

  @TempDir Path dir;
  HttpServer server;
  HttpServer cdn; // the storage host large files are redirected to (another host: the token must not go there)
  URI endpoint;
  final Map<String, byte[]> files = new LinkedHashMap<>(); // file name -> bytes served
  final Map<String, byte[]> corrupt = new ConcurrentHashMap<>(); // file name -> bytes served instead (checksum of the real ones)
  final List<String> log = new CopyOnWriteArrayList<>(); // "METHOD path range auth"
  boolean privateRepo;
  List<String> extraSiblings = new ArrayList<>();

  @BeforeEach
  void serve() throws IOException {
    Path model = dir.resolve("source");
    SyntheticCheckpoints.writeFamily(new SynthSpec(300, 32, 2, 4, 2, 48, false, DType.BF16, 1L << 30, 0, 2, 3), model, 1, Progress.NONE);
    try (var s = Files.list(model.resolve("base"))) {
      for (Path p : s.sorted().toList()) {
        files.put(p.getFileName().toString(), Files.readAllBytes(p));
      }
    }
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
    cdn = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    cdn.createContext("/", this::handle);
    cdn.start();
    endpoint = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  @AfterEach
  void stop() {
    server.stop(0);
    cdn.stop(0);
  }

  static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  static String gitSha1(byte[] b) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-1");
    md.update(("blob " + b.length + "\0").getBytes());
    return HexFormat.of().formatHex(md.digest(b));
  }

  void handle(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    String range = ex.getRequestHeaders().getFirst("Range");
    log.add(ex.getRequestMethod() + " " + path + " " + range + " " + auth);
    try {
      if (path.startsWith("/cdn/")) { // the storage host: no token expected, ranges honoured
        String f = path.substring(5);
        byte[] body = corrupt.getOrDefault(f, files.get(f));
        int from = range == null ? 0 : Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1"));
        if (range != null) {
          ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (body.length - 1) + "/" + body.length);
        }
        send(ex, range == null ? 200 : 206, java.util.Arrays.copyOfRange(body, from, body.length));
        return;
      }
      if (privateRepo && !("Bearer " + TOKEN).equals(auth)) {
        send(ex, 401, "{\"error\": \"Invalid credentials\"}".getBytes());
        return;
      }
      if (path.equals("/api/models/org/model/revision/main")) {
        StringBuilder sib = new StringBuilder();
        List<String> names = new ArrayList<>(files.keySet());
        names.addAll(extraSiblings);
        for (String f : names) {
          sib.append(sib.isEmpty() ? "" : ",").append("{\"rfilename\": \"").append(f).append("\"}");
        }
        send(ex, 200, ("{\"id\": \"org/model\", \"sha\": \"" + COMMIT + "\", \"siblings\": [" + sib + "]}").getBytes());
        return;
      }
      String prefix = "/org/model/resolve/" + COMMIT + "/";
      if (path.startsWith(prefix) && files.containsKey(path.substring(prefix.length()))) {
        String f = path.substring(prefix.length());
        byte[] body = files.get(f);
        if (f.endsWith(".safetensors")) { // LFS: the checksum in X-Linked-Etag, the bytes on the storage host
          ex.getResponseHeaders().add("X-Linked-Etag", "\"" + sha256(body) + "\"");
          ex.getResponseHeaders().add("X-Linked-Size", Integer.toString(body.length));
          ex.getResponseHeaders().add("Location", "http://127.0.0.1:" + cdn.getAddress().getPort() + "/cdn/" + f);
          send(ex, 302, new byte[0]);
        } else {
          ex.getResponseHeaders().add("ETag", "\"" + gitSha1(body) + "\"");
          send(ex, 200, ex.getRequestMethod().equals("HEAD") ? null : corrupt.getOrDefault(f, body));
        }
        return;
      }
      send(ex, 404, "{\"error\": \"Repository Not Found\"}".getBytes());
    } catch (Exception e) {
      send(ex, 500, e.toString().getBytes());
    }
  }

  static void send(HttpExchange ex, int code, byte[] body) throws IOException {
    if (body == null || ex.getRequestMethod().equals("HEAD")) {
      ex.sendResponseHeaders(code, -1);
    } else {
      ex.sendResponseHeaders(code, body.length == 0 ? -1 : body.length);
      if (body.length > 0) {
        ex.getResponseBody().write(body);
      }
    }
    ex.close();
  }

  HubDownloader downloader(String token) {
    return new HubDownloader(endpoint, token, dir.resolve("hub"));
  }

  @Test
  void downloadsIntoTheCacheLayoutOfPythonToolsAndVerifiesChecksums() throws Exception {
    extraSiblings = List.of("pytorch_model.bin", "README.md", "onnx/model.onnx");
    Path snap = downloader(null).download("org/model", "main", Progress.NONE);
    Path repo = dir.resolve("hub/models--org--model");
    assertThat(snap).isEqualTo(repo.resolve("snapshots").resolve(COMMIT));
    assertThat(Files.readString(repo.resolve("refs/main"))).isEqualTo(COMMIT);
    for (String f : files.keySet()) {
      Path link = snap.resolve(f);
      assertThat(Files.isSymbolicLink(link)).as(f).isTrue();
      assertThat(Files.readSymbolicLink(link).toString()).startsWith("../../blobs/");
      assertThat(Files.readAllBytes(link)).isEqualTo(files.get(f));
    }
    assertThat(snap.resolve("pytorch_model.bin")).doesNotExist();
    assertThat(snap.resolve("README.md")).doesNotExist();
    try (Checkpoint c = Checkpoint.open(snap)) {
      assertThat(c.config()).isPresent();
    }
    // the token never leaves for the storage host; a second call downloads nothing
    assertThat(log).noneMatch(l -> l.startsWith("GET /cdn/") && !l.endsWith(" null"));
    int before = log.size();
    downloader(null).download("org/model", "main", Progress.NONE);
    assertThat(log.subList(before, log.size())).allMatch(l -> l.contains("/api/models/"));
    // and the resolver finds it offline afterwards
    ModelResolver offline = new ModelResolver(dir, null, dir.resolve("hub"));
    assertThat(offline.resolve("org/model")).contains(snap);
  }

  @Test
  void anInterruptedDownloadResumesWithARangeRequest() throws Exception {
    byte[] weights = files.get("model.safetensors");
    Path blobs = Files.createDirectories(dir.resolve("hub/models--org--model/blobs"));
    Files.write(blobs.resolve(sha256(weights) + ".incomplete"), java.util.Arrays.copyOf(weights, weights.length / 2));
    Path snap = downloader(null).download("org/model", "main", Progress.NONE);
    assertThat(Files.readAllBytes(snap.resolve("model.safetensors"))).isEqualTo(weights);
    assertThat(log).anyMatch(l -> l.startsWith("GET /cdn/model.safetensors bytes=" + weights.length / 2 + "-"));
    assertThat(blobs.resolve(sha256(weights) + ".incomplete")).doesNotExist();
  }

  @Test
  void aCorruptDownloadIsRejectedAndLeavesNothingBehind() throws Exception {
    byte[] weights = files.get("model.safetensors").clone();
    weights[weights.length - 1] ^= 1;
    corrupt.put("model.safetensors", weights);
    assertThatThrownBy(() -> downloader(null).download("org/model", "main", Progress.NONE))
        .hasMessageContaining("model.safetensors: the download does not match its checksum");
    String good = sha256(files.get("model.safetensors"));
    try (var s = Files.list(dir.resolve("hub/models--org--model/blobs"))) {
      assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(good));
    }
  }

  @Test
  void privateRepositoriesNeedTheToken() {
    privateRepo = true;
    assertThatThrownBy(() -> downloader(null).download("org/model", "main", Progress.NONE))
        .isInstanceOf(dev.graft.InvalidInputException.class).hasMessageContaining("set HF_TOKEN");
    assertThat(downloader(TOKEN).download("org/model", "main", Progress.NONE)).exists();
    assertThat(log).anyMatch(l -> l.startsWith("GET /api/models/") && l.endsWith("Bearer " + TOKEN));
    assertThat(log).filteredOn(l -> l.contains("/cdn/")).allMatch(l -> l.endsWith(" null"));
  }

  @Test
  void pickleOnlyRepositoriesAreRefusedBeforeAnyDownload() {
    files.keySet().removeIf(f -> f.endsWith(".safetensors"));
    extraSiblings = List.of("pytorch_model.bin");
    assertThatThrownBy(() -> downloader(null).download("org/model", "main", Progress.NONE))
        .hasMessageContaining("no safetensors weights").hasMessageContaining("save_pretrained");
    assertThat(log).allMatch(l -> l.contains("/api/models/"));
  }

  @Test
  void aRecipeNamingAHubModelMergesAfterTheDownloadAndAMissingOneIsReportedWithTheReason() throws Exception {
    String yaml = "merge_method: linear\nmodels:\n  - {model: org/model, parameters: {weight: 1.0}}\n  - {model: org/model@main, parameters: {weight: 1.0}}\n";
    Path recipe = Files.writeString(dir.resolve("r.yml"), yaml);
    ModelResolver r = new ModelResolver(dir, dir, dir.resolve("hub")).withDownloads(Optional.of(downloader(null)), Progress.NONE);
    List<MergePlan> plans = MergeRunner.prepare(RecipeReader.read(recipe), r, Operators.builtIn());
    assertThat(plans.get(0).models().get(0).root()).isEqualTo(dir.resolve("hub/models--org--model/snapshots/" + COMMIT));
    Path missing = Files.writeString(dir.resolve("m.yml"), "merge_method: linear\nmodels:\n  - {model: org/nothing, parameters: {weight: 1.0}}\n");
    ModelResolver r2 = new ModelResolver(dir, dir, dir.resolve("hub")).withDownloads(Optional.of(downloader(null)), Progress.NONE);
    assertThatThrownBy(() -> MergeRunner.prepare(RecipeReader.read(missing), r2, Operators.builtIn()))
        .isInstanceOf(RecipeException.class).hasMessageContaining("model 'org/nothing' not found")
        .hasMessageContaining("the Hugging Face hub: org/nothing: not found on " + endpoint);
  }
}
