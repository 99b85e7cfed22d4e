package dev.graft.evolve;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A proposal with its identity in the run: ids count up from 0 in the order the optimiser proposed them, so the same
 * seed gives the same ids whatever the thread count, and a resumed run gives the ids an uninterrupted one would.
 *
 * @param id position in the run
 * @param step the ask/tell step that proposed it
 * @param genome what was evaluated
 * @param origin how it was made
 */
public record Candidate(long id, long step, Genome genome, ObjectNode origin) {}
