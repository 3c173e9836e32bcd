// Starts GraphiQL on this page: queries and mutations over HTTP (POST /graphql),
// subscriptions over WebSocket (graphql-transport-ws on /graphql/ws). The token typed
// into GraphiQL's Headers tab as {"Authorization": "Bearer <token>"} goes with both:
// as a header over HTTP, in connection_init over WebSocket. A file of its own so the
// page's Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  var wsUrl = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql/ws";

  function authorization(headers) {
    if (!headers) return undefined;
    for (var name in headers) {
      if (name.toLowerCase() === "authorization") return headers[name];
    }
    return undefined;
  }

  function fetcher(params, options) {
    var headers = (options && options.headers) || {};
    var auth = authorization(headers);
    // Lazy: it connects only if this operation is a subscription.
    var wsClient = graphqlWs.createClient({
      url: wsUrl,
      lazy: true,
      retryAttempts: 0,
      connectionParams: auth ? { authorization: auth } : {},
    });
    return GraphiQL.createFetcher({ url: "/graphql", wsClient: wsClient })(params, options);
  }

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      shouldPersistHeaders: true,
    }),
  );
})();
