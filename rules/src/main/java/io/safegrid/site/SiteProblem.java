package io.safegrid.site;

/**
 * One thing wrong with a site definition.
 *
 * @param path where, as a JSON pointer into the configuration document, e.g. {@code
 *     /devices/4/place/compound}; the loader turns it into a file line
 * @param message what is wrong, e.g. "compound 'nanmen-9' does not exist in community 'binjiang'"
 */
public record SiteProblem(String path, String message) {
  @Override
  public String toString() {
    return path + ": " + message;
  }
}
