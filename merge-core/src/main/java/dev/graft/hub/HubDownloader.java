package dev.graft.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.InvalidInputException;
import dev.graft.io.Checkpoint;
import dev.graft.io.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Downloads a model from the Hugging Face hub into the standard cache layout that Python tools use
 * ({@code models--org--name/blobs/<etag>}, {@code snapshots/<commit>/<file>} as relative links to the blobs,
 * {@code refs/<revision>}), so that a model fetched by Graft is found by transformers and the other way round.
 *
 * <p>Only what a merge needs is fetched: the safetensors weights (and their index), {@code config.json}, tokenizer and
 * generation files. A repository with only pickle weights is refused before anything is downloaded. Each file is
 * written to {@code blobs/<etag>.incomplete} and resumed from where it stopped with an HTTP range request; its
 * checksum is verified (SHA-256 for LFS files, the git blob SHA-1 for the others) before it is renamed into place.
 * {@code HF_TOKEN} (or the token file of {@code HF_HOME}) is sent to the hub, never to the storage it redirects to.
 */
public final class HubDownloader {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI endpoint;
  private final String token;
  private final Path hubCache;
  // Built on the first request: building one initialises TLS (about 0.27 s, some 900 classes loaded), which a merge of local
  // models or of models already in the cache never needs.
  private HttpClient http;

  /**
   * @param endpoint the hub, e.g. {@code https://huggingface.co} ({@code HF_ENDPOINT})
   * @param token access token, or null
   * @param hubCache the cache folder ({@code HF_HUB_CACHE}, ...)
   */
  public HubDownloader(URI endpoint, String token, Path hubCache) {
    this.endpoint = URI.create(endpoint.toString().replaceAll("/+$", ""));
    this.token = token == null || token.isBlank() ? null : token.strip();
    this.hubCache = hubCache;
  }

  private synchronized HttpClient http() {
    if (http == null) {
      http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(20)).build();
    }
    return http;
  }

  /** A downloader configured from the environment (HF_ENDPOINT, HF_TOKEN or HF_HOME/token, the cache), or empty when HF_HUB_OFFLINE is set. */
  public static Optional<HubDownloader> fromEnvironment(Map<String, String> env, Path hubCache) {
    if (isTrue(env.get("HF_HUB_OFFLINE"))) {
      return Optional.empty();
    }
    String endpoint = env.getOrDefault("HF_ENDPOINT", "https://huggingface.co");
    String token = env.get("HF_TOKEN");
    if (token == null) {
      String home = env.get("HF_HOME");
      Path file = home != null ? Path.of(home, "token") : Path.of(System.getProperty("user.home"), ".cache", "huggingface", "token");
      try {
        token = Files.isRegularFile(file) ? Files.readString(file) : null;
      } catch (IOException e) {
        token = null;
      }
    }
    return Optional.of(new HubDownloader(URI.create(endpoint), token, hubCache));
  }

  private static boolean isTrue(String v) {
    return v != null && (v.equals("1") || v.equalsIgnoreCase("true") || v.equalsIgnoreCase("yes") || v.equalsIgnoreCase("on"));
  }

  /** Files of a repository a merge needs: weights in safetensors, their index, config, tokenizer and generation files. */
  static boolean wanted(String file) {
    if (file.contains("/")) {
      return false;
    }
    return file.endsWith(".safetensors") || file.equals(Checkpoint.INDEX_NAME) || file.equals("config.json")
        || Checkpoint.AUXILIARY_FILES.contains(file);
  }

  /**
   * Downloads {@code repo} ({@code org/name}) at {@code revision} (a branch, tag or commit) unless the cache already
   * holds every file, and returns its snapshot folder.
   *
   * @param progress bytes downloaded of the total to download
   */
  public Path download(String repo, String revision, Progress progress) {
    JsonNode info = getJson("/api/models/" + repo + "/revision/" + encode(revision), repo, revision);
    String commit = info.path("sha").asText("");
    if (!commit.matches("[0-9a-f]{40}")) {
      throw new InvalidInputException(endpoint + ": the hub's answer for " + repo + "@" + revision + " has no commit sha");
    }
    List<String> files = new ArrayList<>();
    boolean anyWeights = false;
    boolean pickles = false;
    for (JsonNode s : info.path("siblings")) {
      String f = s.path("rfilename").asText();
      if (wanted(f)) {
        files.add(f);
        anyWeights |= f.endsWith(".safetensors");
      }
      pickles |= f.endsWith(".bin") || f.endsWith(".pt") || f.endsWith(".pth");
    }
    if (!anyWeights) {
      throw new InvalidInputException(repo + "@" + revision + " has no safetensors weights" + (pickles
          ? " (only pickle files, which Graft does not load: they can run code). Convert them with transformers: "
              + "AutoModel.from_pretrained(...).save_pretrained(dir, safe_serialization=True), then use dir"
          : ""));
    }
    Path repoDir = hubCache.resolve("models--" + repo.replace("/", "--"));
    Path snapshot = repoDir.resolve("snapshots").resolve(commit);
    List<Remote> todo = new ArrayList<>();
    long total = 0;
    for (String f : files) {
      if (Files.exists(snapshot.resolve(f))) {
        continue;
      }
      Remote r = head(repo, commit, f);
      todo.add(r);
      total += r.size();
    }
    long[] done = {0};
    try {
      Files.createDirectories(repoDir.resolve("blobs"));
      Files.createDirectories(snapshot);
      for (int i = 0; i < todo.size(); i++) {
        Remote r = todo.get(i);
        Path blob = repoDir.resolve("blobs").resolve(r.etag());
        int files0 = i;
        int filesN = todo.size();
        long all = total;
        if (!Files.exists(blob)) {
          fetch(r, blob, done, (d, t, bytes, totalBytes) -> progress.update(files0, filesN, bytes, all), progress);
        } else {
          done[0] += r.size();
        }
        progress.update(i + 1, todo.size(), done[0], total);
        Path link = snapshot.resolve(r.file());
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, snapshot.relativize(blob));
      }
      if (!revision.equals(commit)) {
        Files.createDirectories(repoDir.resolve("refs"));
        dev.graft.io.AtomicFiles.writeString(repoDir.resolve("refs").resolve(revision), commit);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("writing into the Hugging Face cache " + repoDir + ": " + e.getMessage(), e);
    }
    return snapshot;
  }

  /** A file of a repository: where to get it, its checksum (the hub's etag) and size. */
  record Remote(String file, URI url, String etag, long size) {}

  private Remote head(String repo, String commit, String file) {
    URI url = URI.create(endpoint + "/" + repo + "/resolve/" + commit + "/" + encodePath(file));
    HttpResponse<Void> r = send(HttpRequest.newBuilder(url).method("HEAD", HttpRequest.BodyPublishers.noBody()), true,
        HttpResponse.BodyHandlers.discarding(), repo, file);
    String etag = r.headers().firstValue("X-Linked-Etag").or(() -> r.headers().firstValue("ETag")).orElse("")
        .replace("\"", "").replaceFirst("^W/", "");
    if (!etag.matches("[0-9a-f]{40}|[0-9a-f]{64}")) {
      throw new IllegalStateException(url + ": the hub gave no usable checksum (etag '" + etag + "'); cannot verify the download");
    }
    long size = r.headers().firstValueAsLong("X-Linked-Size").orElse(r.headers().firstValueAsLong("Content-Length").orElse(-1));
    URI target = r.statusCode() / 100 == 3 ? url.resolve(r.headers().firstValue("Location").orElseThrow()) : url;
    return new Remote(file, target, etag, Math.max(0, size));
  }

  /** Downloads into {@code blob + ".incomplete"} (resuming what is there), verifies, renames. */
  private void fetch(Remote r, Path blob, long[] done, Progress bytes, Progress unused) throws IOException {
    Path part = blob.resolveSibling(blob.getFileName() + ".incomplete");
    long have = Files.exists(part) ? Files.size(part) : 0;
    if (r.size() > 0 && have > r.size()) {
      Files.delete(part);
      have = 0;
    }
    HttpRequest.Builder b = HttpRequest.newBuilder(r.url()).GET();
    if (have > 0) {
      b.header("Range", "bytes=" + have + "-");
    }
    URI url = r.url();
    HttpResponse<InputStream> resp = null;
    for (int hops = 0; hops < 5; hops++) {
      boolean toHub = sameHost(url);
      resp = send(b.uri(url), toHub, HttpResponse.BodyHandlers.ofInputStream(), r.file(), r.file());
      if (resp.statusCode() / 100 != 3) {
        break;
      }
      resp.body().close();
      url = url.resolve(resp.headers().firstValue("Location").orElseThrow(() -> new IllegalStateException(r.url() + ": a redirect without Location")));
    }
    boolean append = resp.statusCode() == 206;
    if (!append) {
      have = 0; // the server sent the whole file
    }
    done[0] += have;
    try (InputStream in = resp.body();
        OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) > 0) {
        out.write(buf, 0, n);
        done[0] += n;
        bytes.update(0, 0, done[0], 0);
      }
    }
    String actual = checksum(part, r.etag().length() == 64);
    if (!actual.equals(r.etag())) {
      Files.deleteIfExists(part);
      throw new IllegalStateException(r.file() + ": the download does not match its checksum (expected " + r.etag() + ", got " + actual
          + "); the partial file was removed, run again to download it anew");
    }
    Files.move(part, blob, StandardCopyOption.ATOMIC_MOVE);
  }

  private boolean sameHost(URI u) {
    return u.getHost() != null && u.getHost().equals(endpoint.getHost()) && u.getPort() == endpoint.getPort();
  }

  /** SHA-256 of the file (LFS etags), or the git blob SHA-1 ({@code "blob <size>\0"} then the bytes) for small files. */
  static String checksum(Path file, boolean sha256) throws IOException {
    try {
      MessageDigest md = MessageDigest.getInstance(sha256 ? "SHA-256" : "SHA-1");
      if (!sha256) {
        md.update(("blob " + Files.size(file) + "\0").getBytes(StandardCharsets.US_ASCII));
      }
      try (InputStream in = Files.newInputStream(file)) {
        byte[] buf = new byte[1 << 16];
        int n;
        while ((n = in.read(buf)) > 0) {
          md.update(buf, 0, n);
        }
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private JsonNode getJson(String path, String repo, String revision) {
    HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(endpoint + path)).GET(), true, HttpResponse.BodyHandlers.ofString(), repo,
        "revision " + revision);
    try {
      return JSON.readTree(r.body());
    } catch (IOException e) {
      throw new IllegalStateException(endpoint + path + ": not JSON: " + e.getMessage(), e);
    }
  }

  private <T> HttpResponse<T> send(HttpRequest.Builder b, boolean withToken, HttpResponse.BodyHandler<T> handler, String repo, String what) {
    b.timeout(Duration.ofMinutes(5)).header("User-Agent", "graft");
    if (withToken && token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    HttpRequest req = b.build();
    HttpResponse<T> r;
    try {
      r = http().send(req, handler);
    } catch (IOException e) {
      String why = e.getMessage() != null ? e.getMessage() : e instanceof java.net.ConnectException ? "no connection" : "network error";
      throw new InvalidInputException("cannot reach " + req.uri() + " (" + why + "). Check HF_ENDPOINT and the network, or "
          + "download " + repo + " with huggingface-cli into " + hubCache + " (set HF_HUB_OFFLINE=1 to never try)", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    int s = r.statusCode();
    if (s == 401 || s == 403) {
      throw new InvalidInputException(repo + ": the hub refused access (" + s + ") to " + what + (token == null
          ? "; the repository may be private or gated: set HF_TOKEN to an access token" : "; check that HF_TOKEN may read it"));
    }
    if (s == 404) {
      throw new InvalidInputException(repo + ": not found on " + endpoint + " (" + what + "); check the id and the revision");
    }
    if (s >= 400) {
      throw new IllegalStateException(req.uri() + ": HTTP " + s);
    }
    return r;
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String encodePath(String file) {
    return encode(file).replace("+", "%20");
  }
}
