/** Graft: merge and evolve neural networks directly on their weight tensors. */
package dev.graft;
