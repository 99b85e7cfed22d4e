package dev.graft.io;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * The header fuzz test with a long budget, never part of the normal test run (excluded in the pom). Run on demand:
 * {@code ./build test -pl merge-core -Dtest=SafetensorsLongFuzzTest -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class SafetensorsLongFuzzTest {
  @FuzzTest(maxDuration = "15m")
  void headerParserNeverCrashes(byte[] file) {
    SafetensorsFuzzTest.check(file);
  }
}
