package dev.graft.plan;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the checkpoint a recipe's model reference names, in this order: a path (absolute; relative to the working
 * directory, as in mergekit; then relative to the recipe's folder), then a Hugging Face id ({@code org/name},
 * optionally {@code @revision}) in the Hugging Face cache ({@code HF_HUB_CACHE}, else {@code HF_HOME/hub}, else
 * {@code ~/.cache/huggingface/hub}), the same layout Python tools use, so models they downloaded are found offline.
 */
public final class ModelResolver {
  static final Pattern HF_ID = Pattern.compile("^([A-Za-z0-9][\\w.-]*)/([\\w.-]+)(?:@([\\w./-]+))?$");

  private final Path workDir;
  private final Path recipeDir;
  private final Path hubCache;

  public ModelResolver(Path workDir, Path recipeDir, Path hubCache) {
    this.workDir = workDir;
    this.recipeDir = recipeDir;
    this.hubCache = hubCache;
  }

  /** A resolver for the current process: working directory, the recipe's folder, the Hugging Face cache. */
  public static ModelResolver forRecipe(Path recipeFile) {
    Path dir = recipeFile == null ? null : recipeFile.toAbsolutePath().getParent();
    return new ModelResolver(Path.of("").toAbsolutePath(), dir, hubCache(System.getenv()));
  }

  /** The hub cache folder from the environment (HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub). */
  public static Path hubCache(Map<String, String> env) {
    String hub = env.get("HF_HUB_CACHE");
    if (hub != null && !hub.isBlank()) {
      return Path.of(hub);
    }
    String home = env.get("HF_HOME");
    if (home != null && !home.isBlank()) {
      return Path.of(home, "hub");
    }
    String xdg = env.get("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("huggingface").resolve("hub");
  }

  public Path hubCache() {
    return hubCache;
  }

  private dev.graft.hub.HubDownloader downloader;
  private dev.graft.io.Progress downloadProgress = dev.graft.io.Progress.NONE;

  /**
   * This resolver, downloading Hugging Face ids that are not in the cache (into the cache) when {@code downloader}
   * is present.
   */
  public ModelResolver withDownloads(Optional<dev.graft.hub.HubDownloader> downloader, dev.graft.io.Progress progress) {
    this.downloader = downloader.orElse(null);
    this.downloadProgress = progress;
    return this;
  }

  /** A resolver for a recipe that downloads missing hub models as configured by the environment (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE). */
  public static ModelResolver forRecipeWithDownloads(Path recipeFile, dev.graft.io.Progress progress) {
    ModelResolver r = forRecipe(recipeFile);
    return r.withDownloads(dev.graft.hub.HubDownloader.fromEnvironment(System.getenv(), r.hubCache), progress);
  }

  /** The checkpoint path, or empty; {@link #tried(String)} says where it looked. */
  public Optional<Path> resolve(String ref) {
    for (Path p : pathCandidates(ref)) {
      if (Files.exists(p)) {
        return Optional.of(p);
      }
    }
    Optional<Path> cached = hubSnapshot(ref);
    if (cached.isPresent() || downloader == null || !looksLikeHubId(ref)) {
      return cached;
    }
    Matcher m = HF_ID.matcher(ref);
    if (!m.matches()) {
      return cached;
    }
    try {
      return Optional.of(downloader.download(m.group(1) + "/" + m.group(2), m.group(3) == null ? "main" : m.group(3), downloadProgress));
    } catch (dev.graft.InvalidInputException e) {
      hubFailures.put(ref, e.getMessage()); // reported with the places looked at, as a model not found
      return Optional.empty();
    }
  }

  private final Map<String, String> hubFailures = new java.util.concurrent.ConcurrentHashMap<>();

  /** The snapshot folder of a Hugging Face id in the cache, or empty. */
  public Optional<Path> hubSnapshot(String ref) {
    Matcher m = HF_ID.matcher(ref);
    if (!m.matches() || hubCache == null) {
      return Optional.empty();
    }
    Path repo = hubCache.resolve(repoFolder(m.group(1), m.group(2)));
    String rev = m.group(3) == null ? "main" : m.group(3);
    String commit = rev;
    if (!rev.matches("[0-9a-f]{40}")) {
      Path refFile = repo.resolve("refs").resolve(rev);
      if (!Files.isRegularFile(refFile)) {
        return Optional.empty();
      }
      try {
        commit = Files.readString(refFile).strip();
      } catch (IOException e) {
        return Optional.empty();
      }
    }
    Path snap = repo.resolve("snapshots").resolve(commit);
    return Files.isDirectory(snap) ? Optional.of(snap) : Optional.empty();
  }

  /** {@code models--org--name}. */
  public static String repoFolder(String org, String name) {
    return "models--" + org + "--" + name;
  }

  /** Whether the reference has the form of a Hugging Face id. */
  public static boolean looksLikeHubId(String ref) {
    return HF_ID.matcher(ref).matches() && !ref.startsWith(".") && !ref.startsWith("/");
  }

  /** Every place {@link #resolve} looks, for messages. */
  public List<String> tried(String ref) {
    List<String> out = new ArrayList<>();
    pathCandidates(ref).forEach(p -> out.add(p.toString()));
    Matcher m = HF_ID.matcher(ref);
    if (m.matches() && hubCache != null) {
      out.add(hubCache.resolve(repoFolder(m.group(1), m.group(2))) + " (Hugging Face cache, revision " + (m.group(3) == null ? "main" : m.group(3)) + ")");
    }
    if (hubFailures.containsKey(ref)) {
      out.add("the Hugging Face hub: " + hubFailures.get(ref));
    }
    return out;
  }

  private List<Path> pathCandidates(String ref) {
    List<Path> out = new ArrayList<>();
    Path p;
    try {
      p = Path.of(ref.startsWith("~/") ? System.getProperty("user.home") + ref.substring(1) : ref);
    } catch (java.nio.file.InvalidPathException e) {
      return out;
    }
    if (p.isAbsolute()) {
      out.add(p);
      return out;
    }
    out.add(workDir.resolve(p).normalize());
    if (recipeDir != null && !recipeDir.equals(workDir)) {
      out.add(recipeDir.resolve(p).normalize());
    }
    return out;
  }
}
