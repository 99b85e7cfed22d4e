package dev.graft.tensor;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Owner of tensors' native memory. Scopes nest; closing a scope closes its children and every tensor it still
 * owns. A sealed scope refuses new tensors (catching leaks into long-lived scopes).
 *
 * @implNote thread-safe.
 */
public final class TensorScope implements AutoCloseable {
  private final TensorScope parent;
  private final String name;
  private final Set<Tensor> owned = new LinkedHashSet<>();
  private final List<TensorScope> children = new ArrayList<>();
  private boolean closed;
  private boolean sealed;

  private TensorScope(TensorScope parent, String name) {
    this.parent = parent;
    this.name = name;
  }

  /** A new root scope. */
  public static TensorScope root(String name) {
    return new TensorScope(null, name);
  }

  /** A child scope, closed with this one at the latest. */
  public synchronized TensorScope child(String childName) {
    checkOpen();
    TensorScope c = new TensorScope(this, name + "/" + childName);
    children.add(c);
    return c;
  }

  /** Called by backends when a tensor is created in (or moved to) this scope. */
  public synchronized void attach(Tensor t) {
    checkOpen();
    if (sealed) {
      throw new IllegalStateException("scope '" + name + "' is sealed; a tensor of shape " + t.shape() + " tried to attach to it");
    }
    owned.add(t);
  }

  /** Called by backends when a tensor is closed or moved away. */
  public synchronized void detach(Tensor t) {
    owned.remove(t);
  }

  /** Refuses any further tensor. */
  public synchronized void seal() {
    sealed = true;
  }

  /** Tensors owned directly by this scope and still open. */
  public synchronized int liveCount() {
    return owned.size();
  }

  /** Tensors owned by this scope and its children. */
  public synchronized int liveCountDeep() {
    int n = owned.size();
    for (TensorScope c : children) {
      n += c.liveCountDeep();
    }
    return n;
  }

  public synchronized boolean isClosed() {
    return closed;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("scope '" + name + "' is closed");
    }
  }

  @Override
  public void close() {
    List<TensorScope> cs;
    List<Tensor> ts;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      cs = new ArrayList<>(children);
      ts = new ArrayList<>(owned);
      owned.clear();
      children.clear();
    }
    cs.forEach(TensorScope::close);
    ts.forEach(Tensor::close);
    if (parent != null) {
      synchronized (parent) {
        parent.children.remove(this);
      }
    }
  }

  @Override
  public String toString() {
    return "TensorScope[" + name + "]";
  }
}
