package io.safegrid.site;

import java.util.List;
import java.util.stream.Collectors;

/** A site definition is inconsistent; {@link #problems()} lists every problem found, in order. */
public class SiteValidationException extends RuntimeException {

  private final List<SiteProblem> problems;

  /** @param problems at least one problem */
  public SiteValidationException(List<SiteProblem> problems) {
    super(
        problems.size()
            + " problem(s) in the site: "
            + problems.stream().map(SiteProblem::toString).collect(Collectors.joining("; ")));
    this.problems = List.copyOf(problems);
  }

  /** The problems, in document order. */
  public List<SiteProblem> problems() {
    return problems;
  }
}
